package meshtest_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/meshtest"
	"courtmesh/regions"
)

// echoServer answers every line with itself, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes a line through c and reads it back.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader) time.Duration {
	t.Helper()
	t0 := time.Now()
	_, err := c.Write([]byte("ping\n"))
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ping\n", line)
	return time.Since(t0)
}

// TestTCPProxyDelaysAndHolds: a round trip through the proxy takes the
// catalog's RTT; during a partition bytes are held, not lost, and arrive
// after the heal; Close cuts the connection.
func TestTCPProxyDelaysAndHolds(t *testing.T) {
	wan := meshtest.NewNetwork(regions.Default())
	p, err := wan.ProxyTCP("asia", "us", echoServer(t), "127.0.0.1:0")
	require.NoError(t, err)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)

	took := roundTrip(t, c, r)
	require.GreaterOrEqual(t, took, usAsiaRTT, "a round trip crosses the us–asia RTT")
	require.Less(t, took, usAsiaRTT+100*time.Millisecond)

	wan.Partition("asia", "us")
	healed := make(chan time.Time, 1)
	go func() { time.Sleep(300 * time.Millisecond); wan.Heal("asia", "us"); healed <- time.Now() }()
	roundTrip(t, c, r)
	require.False(t, time.Now().Before(<-healed), "the answer comes only after the heal")

	wan.SetRTTScale(0)
	require.Less(t, roundTrip(t, c, r), 50*time.Millisecond, "scale 0 turns the delay off")

	require.NoError(t, p.Close())
	_, err = r.ReadString('\n')
	require.Error(t, err, "Close cuts the proxied connection")
	_, err = wan.ProxyTCP("mars", "us", "127.0.0.1:1", "127.0.0.1:0")
	require.ErrorIs(t, err, meshtest.ErrUnknownRegion)
}
