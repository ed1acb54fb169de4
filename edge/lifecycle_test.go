package edge

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"courtmesh/token"
)

// runEdge starts Run on a loopback port and returns the server, its client
// URL and the channel Run's result arrives on.
func runEdge(t *testing.T, ctx context.Context) (*Server, string, <-chan error) {
	t.Helper()
	s, err := New(Config{NodeID: "edge-us-1", Region: "us", Addr: "127.0.0.1:0",
		Verifier: &token.Verifier{Secret: testSecret}, Directory: newFakeDir(),
		Mesh: &fakeMesh{nodes: []string{"home-us-1"}}, PresenceTTL: 30 * time.Millisecond})
	require.NoError(t, err)
	require.Nil(t, s.Addr())
	res := make(chan error, 1)
	go func() { res <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-res:
		t.Fatalf("Run: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatal("not ready")
	}
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.True(t, s.Serving())
	return s, "ws://" + s.Addr().String() + "/socket.io/?EIO=4&transport=websocket", res
}

func dialURL(t *testing.T, url, user string) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	c := &client{t: t, ws: ws}
	c.read()
	c.write(`40{"token":"` + mint(t, user) + `"}`)
	require.True(t, strings.HasPrefix(c.read(), `40{"sid":`))
	return c
}

func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	s, url, res := runEdge(t, t.Context())
	clients := []*client{dialURL(t, url, "aaaaaaaa-0000-4000-8000-00000000000a"), dialURL(t, url, "bbbbbbbb-0000-4000-8000-00000000000b"), dialURL(t, url, "cccccccc-0000-4000-8000-00000000000c")}
	clients[0].register()

	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	for _, c := range clients {
		require.Equal(t, "41", c.read(), "Socket.IO disconnect first")
		var ce *websocket.CloseError
		require.True(t, errors.As(c.readErr(), &ce))
		require.Equal(t, websocket.CloseGoingAway, ce.Code)
	}
	require.NoError(t, <-shut)
	require.NoError(t, <-res)
	require.False(t, s.Serving())
	_, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.Error(t, err, "the listener is closed")
}

func TestShutdownHardClosesAtDeadline(t *testing.T) {
	t.Parallel()
	s, url, res := runEdge(t, t.Context())
	c := dialURL(t, url, "aaaaaaaa-0000-4000-8000-00000000000a") // never reads, so never answers the close frame
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Shutdown(ctx), context.DeadlineExceeded)
	require.NoError(t, <-res)
	require.Error(t, c.readErr())
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	s, url, res := runEdge(t, ctx)
	c := dialURL(t, url, "aaaaaaaa-0000-4000-8000-00000000000a")
	c.register()
	require.Eventually(t, func() bool {
		a, _ := s.cfg.Directory.(*fakeDir).counts("aaaaaaaa-0000-4000-8000-00000000000a")
		return a >= 2
	},
		3*time.Second, 5*time.Millisecond, "Run refreshes presence")
	cancel()
	require.NoError(t, <-res)
	require.Error(t, c.readErr())
}

func TestHandlerRefusesWhileDraining(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	require.NoError(t, te.s.Shutdown(t.Context()))
	_, resp, err := websocket.DefaultDialer.Dial(te.url(), nil)
	require.Error(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	resp.Body.Close()
}

// TestDrainLameDuck: a drained edge fails /readyz at once, tells every
// socket to reconnect (Socket.IO disconnect, close 1001), refuses new
// sockets with 503 while its listener stays open, and takes sockets again
// once undrained.
func TestDrainLameDuck(t *testing.T) {
	t.Parallel()
	s, url, _ := runEdge(t, t.Context())
	clients := []*client{dialURL(t, url, "aaaaaaaa-0000-4000-8000-00000000000a"), dialURL(t, url, "bbbbbbbb-0000-4000-8000-00000000000b")}
	require.Equal(t, 2, s.Sockets())
	drained := make(chan error, 1)
	go func() { drained <- s.Drain(t.Context(), 200*time.Millisecond) }()
	for _, c := range clients {
		require.Equal(t, "41", c.read(), "Socket.IO disconnect first")
		var ce *websocket.CloseError
		require.True(t, errors.As(c.readErr(), &ce))
		require.Equal(t, websocket.CloseGoingAway, ce.Code)
	}
	require.NoError(t, <-drained)
	require.Zero(t, s.Sockets())
	require.ErrorContains(t, s.CheckReady(), "draining")
	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	require.Error(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "refused, not unreachable")
	resp.Body.Close()

	s.Undrain()
	require.NoError(t, s.CheckReady())
	dialURL(t, url, "cccccccc-0000-4000-8000-00000000000c")
	require.Equal(t, 1, s.Sockets())
}
