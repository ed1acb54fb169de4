package edge

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// maskedText is a client WebSocket text frame (payload < 126 bytes).
func maskedText(payload string) []byte {
	mask := [4]byte{7, 1, 9, 3}
	b := append([]byte{0x81, 0x80 | byte(len(payload))}, mask[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i%4])
	}
	return b
}

// waitParked waits until the server side of a socket is parked in the
// poller (Linux only: elsewhere idle sockets keep their reader).
func waitParked(t *testing.T, c *conn) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.parked
	}, 3*time.Second, 5*time.Millisecond, "idle socket not parked")
}

// requireNoReadBuffer checks that the parked socket c gave its read buffer
// back: gorilla's reader is empty until a reader borrows again.
func requireNoReadBuffer(t *testing.T, c *conn) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	require.True(t, c.parked)
	require.Nil(t, c.lent, "a parked socket holds a pooled reader")
	require.Zero(t, c.br.Size(), "a parked socket holds a read buffer")
}

func (te *testEdge) openSockets() int {
	te.s.mu.RLock()
	defer te.s.mu.RUnlock()
	return len(te.s.conns)
}

func TestIdleSocketIsParkedAndWakes(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.register()
	sc := te.registered("a11ce000-0000-4000-8000-0000000000a1")
	waitParked(t, sc)
	requireNoReadBuffer(t, sc)
	otherStillWorks(t, c)
	waitParked(t, sc)
	requireNoReadBuffer(t, sc)
}

// Two messages in one TCP write land in the read buffer together: the
// second must be handled although the socket has nothing more to read.
func TestMessagesOfOneWriteAreAllHandled(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.register()
	waitParked(t, te.registered("a11ce000-0000-4000-8000-0000000000a1"))
	frames := append(maskedText("2"), maskedText(`4277["court:register",{}]`)...)
	frames = append(frames, maskedText("2")...)
	_, err := c.ws.NetConn().Write(frames)
	require.NoError(t, err)
	var pongs, acks int
	for range 4 { // two pongs, court:state and the ack, in any order
		switch f := c.read(); {
		case f == "3":
			pongs++
		case strings.HasPrefix(f, "4377["):
			acks++
		}
	}
	require.Equal(t, 2, pongs, "a message of the write was lost")
	require.Equal(t, 1, acks)
}

// A parked socket has no reader to see it end: the ping timeout must still
// close it, and closing must still remove it and its user's presence.
func TestSilentSocketIsClosedByPingTimeout(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, func(c *Config) {
		c.PingInterval = 50 * time.Millisecond
		c.PingTimeout = 50 * time.Millisecond
	})
	silent := te.connect(t, "b0b00000-0000-4000-8000-0000000000b2")
	silent.register()
	require.Eventually(t, func() bool { return te.closes(reasonPingTimeout) == 1 }, 3*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		_, removed := te.dir.counts("b0b00000-0000-4000-8000-0000000000b2")
		return te.openSockets() == 0 && removed == 1
	}, 3*time.Second, 5*time.Millisecond)
	require.Error(t, silent.readErr())
}

// A client that never answers the close frame is cut after closeGrace,
// although its socket is parked and has no read deadline.
func TestUnansweredCloseFrameIsCut(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.dial(t, nil)
	require.True(t, strings.HasPrefix(c.read(), `0{"sid":`))
	c.write(`40{"token":"not-a-token"}`)
	require.Eventually(t, func() bool { return te.closes(reasonUnauthorized) == 1 && te.openSockets() == 0 },
		closeGrace+3*time.Second, 5*time.Millisecond)
}
