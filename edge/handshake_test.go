package edge

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"courtmesh/token"
)

func TestOpenPacketAndConnect(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.dial(t, nil)
	open := c.read()
	require.Equal(t, byte('0'), open[0])
	var o struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
		PingTimeout  int      `json:"pingTimeout"`
		MaxPayload   int      `json:"maxPayload"`
	}
	require.NoError(t, json.Unmarshal([]byte(open[1:]), &o))
	require.Len(t, o.SID, 20)
	require.NotNil(t, o.Upgrades)
	require.Empty(t, o.Upgrades)
	require.Equal(t, 25000, o.PingInterval)
	require.Equal(t, 20000, o.PingTimeout)
	require.Equal(t, 1_000_000, o.MaxPayload)

	c.write(`40{"token":"` + mint(t, "a11ce000-0000-4000-8000-0000000000a1") + `"}`)
	ok := c.read()
	var sid struct{ SID string }
	require.True(t, strings.HasPrefix(ok, "40{"), ok)
	require.NoError(t, json.Unmarshal([]byte(ok[2:]), &sid))
	require.NotEmpty(t, sid.SID)
}

func TestHandshakeHTTPErrors(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	cases := []struct {
		name, query string
		want        string
	}{
		{"polling", "EIO=4&transport=polling", `{"code":0,"message":"Transport unknown"}`},
		{"no transport", "EIO=4", `{"code":0,"message":"Transport unknown"}`},
		{"eio 3", "EIO=3&transport=websocket", `{"code":5,"message":"Unsupported protocol version"}`},
		{"no eio", "transport=websocket", `{"code":5,"message":"Unsupported protocol version"}`},
		{"sid", "EIO=4&transport=websocket&sid=x", `{"code":1,"message":"Session ID unknown"}`},
		{"not an upgrade", "EIO=4&transport=websocket", `{"code":3,"message":"Bad request"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Get(te.srv.URL + "/socket.io/?" + tc.query)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.JSONEq(t, tc.want, string(body))
		})
	}
}

func TestConnectAuth(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	expired, err := token.Mint(testSecret, "a11ce000-0000-4000-8000-0000000000a1", -time.Hour)
	require.NoError(t, err)
	wrong, err := token.Mint([]byte("another-secret"), "a11ce000-0000-4000-8000-0000000000a1", time.Hour)
	require.NoError(t, err)
	good := mint(t, "a11ce000-0000-4000-8000-0000000000a1")
	cases := []struct {
		name    string
		connect string
		bearer  string
		ok      bool
	}{
		{"auth token", `40{"token":"` + good + `"}`, "", true},
		{"bearer header", `40`, good, true},
		{"bearer header, empty auth", `40{}`, good, true},
		{"auth token wins over bad header", `40{"token":"` + good + `"}`, "junk", true},
		{"missing token", `40`, "", false},
		{"null token", `40{"token":null}`, "", false},
		{"garbage token", `40{"token":"abc"}`, "", false},
		{"expired", `40{"token":"` + expired + `"}`, "", false},
		{"wrong secret", `40{"token":"` + wrong + `"}`, "", false},
		{"bad auth token beats good header", `40{"token":"` + wrong + `"}`, good, false},
		{"bad header", `40`, wrong, false},
	}
	t.Run("group", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				h := http.Header{}
				if tc.bearer != "" {
					h.Set("Authorization", "Bearer "+tc.bearer)
				}
				c := te.dial(t, h)
				c.read()
				c.write(tc.connect)
				got := c.read()
				if tc.ok {
					require.True(t, strings.HasPrefix(got, `40{"sid":`), got)
					return
				}
				require.Equal(t, `44{"message":"Unauthorized"}`, got)
				var ce *websocket.CloseError
				require.True(t, errors.As(c.readErr(), &ce))
			})
		}
	})
	require.Eventually(t, func() bool { return te.closes(reasonUnauthorized) == 7 }, 3*time.Second, 5*time.Millisecond,
		"closes: unauthorized %v client %v", te.closes(reasonUnauthorized), te.closes(reasonClientClose))
}

func TestInvalidNamespaceKeepsSocket(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.dial(t, nil)
	c.read()
	c.write(`40/admin,{"token":"x"}`)
	require.Equal(t, `44/admin,{"message":"Invalid namespace"}`, c.read())
	c.write(`40{"token":"` + mint(t, "a11ce000-0000-4000-8000-0000000000a1") + `"}`)
	require.True(t, strings.HasPrefix(c.read(), `40{"sid":`))
}

func TestEventBeforeConnectIsBadPacket(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.dial(t, nil)
	c.read()
	c.write(`421["court:accept",{}]`)
	require.Error(t, c.readErr())
	require.Eventually(t, func() bool { return te.closes(reasonBadPacket) == 1 }, 3*time.Second, 5*time.Millisecond)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	base := func() Config {
		return Config{NodeID: "e", Region: "us", Verifier: &token.Verifier{Secret: testSecret},
			Directory: newFakeDir(), Mesh: &fakeMesh{}}
	}
	cases := []struct {
		name  string
		tweak func(*Config)
	}{
		{"no node", func(c *Config) { c.NodeID = "" }},
		{"unknown region", func(c *Config) { c.Region = "mars" }},
		{"no verifier", func(c *Config) { c.Verifier = nil }},
		{"no directory", func(c *Config) { c.Directory = nil }},
		{"no mesh", func(c *Config) { c.Mesh = nil }},
		{"bad policy", func(c *Config) { c.HomePolicy = "nearest" }},
		{"negative timeout", func(c *Config) { c.PingTimeout = -1 }},
		{"negative queue", func(c *Config) { c.SendQueueLen = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := base()
			tc.tweak(&cfg)
			_, err := New(cfg)
			require.ErrorIs(t, err, ErrConfig)
		})
	}
	s, err := New(base())
	require.NoError(t, err)
	require.Equal(t, "us", s.homeRegion)
	cfg := base()
	cfg.Region, cfg.HomePolicy = "asia", HomeCreator
	s, err = New(cfg)
	require.NoError(t, err)
	require.Equal(t, "us", s.homeRegion, "asia may not host homes; us is nearest")
}
