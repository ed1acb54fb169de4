package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"courtmesh/token"
)

// TestTokenExpiryEndsSocket: a socket whose token expires is sent the
// Socket.IO DISCONNECT (socket.io-client: "io server disconnect") and a close
// frame TokenGrace after the token's exp, whether the token came in the
// CONNECT packet or the Authorization header; the close is counted as
// token_expired; a socket with a live token stays (R15).
func TestTokenExpiryEndsSocket(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	te := newTestEdge(t, func(c *Config) { c.TokenGrace = grace })
	short, err := token.Mint(testSecret, "a11ce000-0000-4000-8000-0000000000a1", time.Second)
	require.NoError(t, err)
	exp := tokenExpiry(short)
	require.WithinDuration(t, time.Now().Add(time.Second), exp, time.Second)

	viaConnect := te.dial(t, nil)
	require.True(t, strings.HasPrefix(viaConnect.read(), `0{"sid":`))
	viaConnect.write(`40{"token":"` + short + `"}`)
	require.True(t, strings.HasPrefix(viaConnect.read(), `40{"sid":`))

	viaHeader := te.dial(t, http.Header{"Authorization": {"Bearer " + short}})
	require.True(t, strings.HasPrefix(viaHeader.read(), `0{"sid":`))
	viaHeader.write(`40`)
	require.True(t, strings.HasPrefix(viaHeader.read(), `40{"sid":`))

	live := te.connect(t, "b0b00000-0000-4000-8000-0000000000b2")

	for _, c := range []*client{viaConnect, viaHeader} {
		require.NoError(t, c.ws.SetReadDeadline(time.Now().Add(5*time.Second)))
		var frames []string
		var err error
		for {
			var b []byte
			if _, b, err = c.ws.ReadMessage(); err != nil {
				break
			}
			if string(b) != "2" { // pings may come first
				frames = append(frames, string(b))
			}
		}
		closedAt := time.Now()
		require.Equal(t, []string{"41"}, frames, "a Socket.IO DISCONNECT, then the close")
		require.True(t, websocket.IsCloseError(err, websocket.CloseNormalClosure), "close frame: %v", err)
		require.False(t, closedAt.Before(exp.Add(grace)), "closed at %v, before exp %v + grace", closedAt, exp)
	}
	require.Eventually(t, func() bool { return te.closes(reasonTokenExpired) == 2 }, 3*time.Second, 5*time.Millisecond)

	live.write("3") // a pong is harmless; the socket is still served
	live.register()
}

// TestTokenExpiryAmidHeartbeats: the socket's one timer serves the
// heartbeat and the expiry: a client answering pings is pinged until its
// token expires, then ended as token_expired, not as a ping timeout.
func TestTokenExpiryAmidHeartbeats(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	te := newTestEdge(t, func(c *Config) {
		c.TokenGrace = grace
		c.PingInterval = 50 * time.Millisecond
		c.PingTimeout = 200 * time.Millisecond
	})
	short, err := token.Mint(testSecret, "a11ce000-0000-4000-8000-0000000000a1", time.Second)
	require.NoError(t, err)
	exp := tokenExpiry(short)
	c := te.dial(t, nil)
	require.True(t, strings.HasPrefix(c.read(), `0{"sid":`))
	c.write(`40{"token":"` + short + `"}`)
	require.True(t, strings.HasPrefix(c.read(), `40{"sid":`))

	require.NoError(t, c.ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	var frames []string
	pings := 0
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			require.True(t, websocket.IsCloseError(err, websocket.CloseNormalClosure), "close frame: %v", err)
			break
		}
		if string(b) == "2" {
			pings++
			require.NoError(t, c.ws.WriteMessage(websocket.TextMessage, []byte("3")))
			continue
		}
		frames = append(frames, string(b))
	}
	require.False(t, time.Now().Before(exp.Add(grace)), "closed before exp + grace")
	require.Equal(t, []string{"41"}, frames)
	require.NotZero(t, pings, "no heartbeat before the expiry")
	require.Eventually(t, func() bool { return te.closes(reasonTokenExpired) == 1 }, 3*time.Second, 5*time.Millisecond)
	require.Zero(t, te.closes(reasonPingTimeout))
}

func TestTokenGraceBounded(t *testing.T) {
	t.Parallel()
	_, err := New(Config{NodeID: "e", Region: "asia", Verifier: &token.Verifier{Secret: testSecret},
		Directory: newFakeDir(), Mesh: &fakeMesh{}, TokenGrace: MaxTokenGrace + time.Second})
	require.ErrorIs(t, err, ErrConfig)
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	tok, err := token.Mint(testSecret, "a11ce000-0000-4000-8000-0000000000a1", time.Hour)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Hour), tokenExpiry(tok), 2*time.Second)
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a." + "bm90IGpzb24" + ".c", "a.e30.c"} {
		require.True(t, tokenExpiry(bad).IsZero(), bad)
	}
}

func FuzzTokenExpiry(f *testing.F) {
	f.Add("a.eyJleHAiOjE3MDAwMDAwMDB9.c")
	f.Add("a.eyJleHAiOjFlMzAwfQ.c") // {"exp":1e300}
	f.Add("a.eyJleHAiOiJ4In0.c")    // {"exp":"x"}
	f.Fuzz(func(t *testing.T, tok string) {
		exp := tokenExpiry(tok)
		if !exp.IsZero() && (exp.Unix() > 1<<40 || exp.Unix() < -(1<<40)) {
			t.Fatalf("exp %v out of bounds", exp)
		}
	})
}
