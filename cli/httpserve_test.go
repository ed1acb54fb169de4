package cli

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeHTTPTimeouts: a client that never finishes its headers
// (slowloris) and an idle keep-alive connection are both closed by the
// server.
func TestServeHTTPTimeouts(t *testing.T) {
	oldHeader, oldIdle := readHeaderTimeout, idleTimeout
	readHeaderTimeout, idleTimeout = 200*time.Millisecond, 300*time.Millisecond
	t.Cleanup(func() { readHeaderTimeout, idleTimeout = oldHeader, oldIdle })

	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	go func() { errc <- serveHTTP(ctx, "127.0.0.1:0", h, func(a string) { addrc <- a }) }()
	addr := <-addrc
	t.Cleanup(func() { cancel(); require.NoError(t, <-errc) })

	closedWithin := func(conn net.Conn, d time.Duration) {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.ReadAll(conn) // returns at EOF: the server closed
		require.NoError(t, err, "the server did not close the connection within %v", d)
	}

	slow, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer slow.Close()
	_, err = io.WriteString(slow, "GET /x HTTP/1.1\r\nHost: a\r\n")
	require.NoError(t, err)
	closedWithin(slow, 2*time.Second)

	idle, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer idle.Close()
	_, err = io.WriteString(idle, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	require.True(t, strings.HasPrefix(string(body), "ok"))
	start := time.Now()
	closedWithin(idle, 2*time.Second)
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
}
