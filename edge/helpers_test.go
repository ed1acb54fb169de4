package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
	"courtmesh/token"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testSecret = []byte("test-secret-test-secret-test-secret!")

// fakeMesh answers requests with fn and records them.
type fakeMesh struct {
	mu    sync.Mutex
	reqs  []wire.Request
	to    []string // node of each request
	nodes []string
	fn    func(ctx context.Context, node string, req *wire.Request) (*wire.Response, error)
}

func (m *fakeMesh) Request(ctx context.Context, node string, req *wire.Request) (*wire.Response, error) {
	m.mu.Lock()
	r := *req
	r.Payload = append(json.RawMessage(nil), req.Payload...)
	m.reqs = append(m.reqs, r)
	m.to = append(m.to, node)
	fn := m.fn
	m.mu.Unlock()
	if fn == nil {
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
	}
	return fn(ctx, node, req)
}

func (m *fakeMesh) HomeNodes(region string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if region != "us" {
		return nil
	}
	return m.nodes
}

func (m *fakeMesh) setFn(fn func(ctx context.Context, node string, req *wire.Request) (*wire.Response, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fn = fn
}

func (m *fakeMesh) targets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.to...)
}

func (m *fakeMesh) requests() []wire.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]wire.Request(nil), m.reqs...)
}

// fakeDir is a small in-memory directory: routes and presence only.
type fakeDir struct {
	mu       sync.Mutex
	routes   map[string]directory.Route
	fresh    map[string]directory.Route // answers of fresh lookups, when set
	presence map[string]int             // user → AddPresence calls
	removed  map[string]int             // user → RemovePresence calls
	// onCachedLookup, when set, runs at each lookup that is not fresh,
	// before it answers.
	onCachedLookup func(user string)
}

func newFakeDir() *fakeDir {
	return &fakeDir{routes: map[string]directory.Route{}, fresh: map[string]directory.Route{},
		presence: map[string]int{}, removed: map[string]int{}}
}

func (d *fakeDir) Lookup(_ context.Context, user string, fresh bool) (directory.Route, error) {
	if !fresh && d.onCachedLookup != nil {
		d.onCachedLookup(user)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.fresh[user]; ok && fresh {
		return r, nil
	}
	if r, ok := d.routes[user]; ok {
		return r, nil
	}
	return directory.Route{}, directory.ErrNotFound
}

func (d *fakeDir) RouteOf(context.Context, string, bool) (directory.Route, error) {
	return directory.Route{}, directory.ErrNotFound
}

func (d *fakeDir) CreateSession(context.Context, directory.Route, string, string) error { return nil }

func (d *fakeDir) EndSession(context.Context, string, ...string) error { return nil }

func (d *fakeDir) AddPresence(_ context.Context, _ string, _ time.Duration, users ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range users {
		d.presence[u]++
	}
	return nil
}

func (d *fakeDir) RemovePresence(_ context.Context, _, user string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removed[user]++
	return nil
}

func (d *fakeDir) Presence(context.Context, string) ([]string, error) { return nil, nil }

func (d *fakeDir) counts(user string) (added, removed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.presence[user], d.removed[user]
}

type testEdge struct {
	s    *Server
	srv  *httptest.Server
	mesh *fakeMesh
	dir  *fakeDir
	reg  *prometheus.Registry
}

func newTestEdge(t *testing.T, tweak func(*Config)) *testEdge {
	t.Helper()
	te := &testEdge{mesh: &fakeMesh{nodes: []string{"home-us-1", "home-us-2"}}, dir: newFakeDir(),
		reg: prometheus.NewRegistry()}
	cfg := Config{NodeID: "edge-asia-1", Region: "asia", Verifier: &token.Verifier{Secret: testSecret},
		Directory: te.dir, Mesh: te.mesh, Registerer: te.reg, RequestTimeout: 2 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	te.s = s
	te.srv = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		te.srv.Close()
		require.NoError(t, s.Close())
	})
	return te
}

func (te *testEdge) url() string {
	return "ws" + strings.TrimPrefix(te.srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

func (te *testEdge) closes(reason closeReason) float64 {
	return counterValue(te.s.m.closes.WithLabelValues(string(reason)))
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func mint(t *testing.T, user string) string {
	t.Helper()
	tok, err := token.Mint(testSecret, user, time.Hour)
	require.NoError(t, err)
	return tok
}

// client speaks the raw protocol over a gorilla client.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (te *testEdge) dial(t *testing.T, h http.Header) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(te.url(), h)
	require.NoError(t, err)
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

// connect dials, checks the open packet and connects as user.
func (te *testEdge) connect(t *testing.T, user string) *client {
	t.Helper()
	c := te.dial(t, nil)
	require.True(t, strings.HasPrefix(c.read(), `0{"sid":`))
	c.write(`40{"token":"` + mint(t, user) + `"}`)
	require.True(t, strings.HasPrefix(c.read(), `40{"sid":`))
	return c
}

func (c *client) write(s string) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, []byte(s)))
}

// read returns the next frame, failing after 3 s.
func (c *client) read() string {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(3*time.Second)))
	_, b, err := c.ws.ReadMessage()
	require.NoError(c.t, err)
	return string(b)
}

// readErr reads until the server closes the socket (at most 50 frames or
// 3 s) and returns the error.
func (c *client) readErr() error {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(3*time.Second)))
	for range 50 {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			return err
		}
	}
	c.t.Fatal("socket not closed")
	return nil
}

// event splits 42["name",payload] into name and payload.
func event(t *testing.T, frame string) (string, string) {
	t.Helper()
	require.True(t, strings.HasPrefix(frame, "42["), "not an event: %s", frame)
	var arr []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(frame[2:]), &arr))
	var name string
	require.NoError(t, json.Unmarshal(arr[0], &name))
	if len(arr) < 2 {
		return name, ""
	}
	return name, string(arr[1])
}

// register registers c and consumes court:state and the ack. The
// register's resync (presence_async.go) may push the same state before the
// reply when it wins the race to the socket, so a few more court:state
// frames may come before the ack.
func (c *client) register() {
	c.t.Helper()
	c.write(`4299["court:register",{}]`)
	name, _ := event(c.t, c.read())
	require.Equal(c.t, "court:state", name)
	for range 3 {
		f := c.read()
		if strings.HasPrefix(f, "4399[") {
			return
		}
		name, _ := event(c.t, f)
		require.Equal(c.t, "court:state", name, "before the register's ack")
	}
	c.t.Fatal("no ack of the register")
}

var routeS1 = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-1"}

// ackWithVersion answers every request with a state of session s1 at v.
func ackWithVersion(v uint64) func(context.Context, string, *wire.Request) (*wire.Response, error) {
	return func(context.Context, string, *wire.Request) (*wire.Response, error) {
		return &wire.Response{Ack: json.RawMessage(`{"ok":true,"state":{"v":` + jsonUint(v) + `}}`), SessionID: "s1", Version: v}, nil
	}
}

// registered returns the server side of the first registered socket of user.
func (te *testEdge) registered(user string) *conn {
	te.s.mu.RLock()
	defer te.s.mu.RUnlock()
	return te.s.users[user][0]
}

// fakeLimiter counts like a fixed window that never ends: the (limit+1)th
// event of a user and event is refused with retryAfter. A non-nil err fails
// every call.
type fakeLimiter struct {
	mu         sync.Mutex
	retryAfter time.Duration
	err        error
	counts     map[string]int // "user event" → events counted
	limits     map[string]protocol.Limit
}

func newFakeLimiter(retryAfter time.Duration) *fakeLimiter {
	return &fakeLimiter{retryAfter: retryAfter, counts: map[string]int{}, limits: map[string]protocol.Limit{}}
}

func (l *fakeLimiter) Allow(_ context.Context, user, event string, limit int, window time.Duration) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false, 0, l.err
	}
	l.limits[event] = protocol.Limit{Max: limit, Window: window}
	k := user + " " + event
	l.counts[k]++
	if l.counts[k] > limit {
		return false, l.retryAfter, nil
	}
	return true, 0, nil
}

func (l *fakeLimiter) count(user, event string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[user+" "+event]
}

func (l *fakeLimiter) limit(event string) protocol.Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limits[event]
}
