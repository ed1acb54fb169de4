package home

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/appdata"
	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/judge"
	"courtmesh/home/store"
	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeMesh records the events sent to each edge. It rebuilds the
// court:state documents as an edge does, and records each user's
// court:state; a document an edge could not apply is recorded as an event
// named docGap.
type fakeMesh struct {
	mu     sync.Mutex
	events []sent
	docs   map[[2]string]*statedoc.Session // (edge, session) → the edge's copy
	// docBytes counts the documents' bytes by kind (full, delta).
	docBytes map[string]int
	// plainEdges take no documents (an earlier release).
	plainEdges map[string]bool
	// docAcks: the edges build acks from their documents.
	docAcks bool
	// linked are the edges Edges returns; none unless a test sets them.
	linked []string
	// discard drops every event unread (benchmarks: no edge's work).
	discard bool
}

func (m *fakeMesh) Edges() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.linked)
}

type sent struct {
	edge string
	ev   wire.Event
}

func (m *fakeMesh) TakesStateDocs(edge string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.plainEdges[edge]
}

func (m *fakeMesh) TakesDocAcks(edge string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.docAcks && !m.plainEdges[edge]
}

// ackFromDoc is the ack an edge builds from its copy of the session for a
// response whose state is in its document.
func (m *fakeMesh) ackFromDoc(t *testing.T, edge, user string, resp *wire.Response) []byte {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	sess := m.docs[[2]string{edge, resp.SessionID}]
	require.NotNil(t, sess, "%s has no copy of %s", edge, resp.SessionID)
	require.Equal(t, resp.Version, sess.Version, "%s has another version", edge)
	ack, ok := sess.AppendAck(nil, user)
	require.True(t, ok, "the document was not for %s", user)
	return ack
}

// docGap names a document the edge could not apply.
const docGap = "doc-gap"

func (m *fakeMesh) SendEvent(nodeID string, ev *wire.Event) error {
	if m.discard {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ev.Name != statedoc.EventName {
		m.events = append(m.events, sent{edge: nodeID, ev: *ev})
		return nil
	}
	d, err := statedoc.Decode(ev.Payload)
	if err != nil {
		return err
	}
	if m.docs == nil {
		m.docs, m.docBytes = map[[2]string]*statedoc.Session{}, map[string]int{}
	}
	m.docBytes[docKind(d)] += len(ev.Payload)
	key := [2]string{nodeID, ev.SessionID}
	sess, ok := statedoc.Apply(m.docs[key], d, ev.Version)
	m.docs[key] = sess
	for _, u := range d.Users {
		out := wire.Event{UserID: u.ID, Name: docGap, SessionID: ev.SessionID, Version: ev.Version}
		if ok && sess.Has(u) {
			out.Name, out.Payload = "court:state", sess.AppendState(nil, u)
		}
		m.events = append(m.events, sent{edge: nodeID, ev: out})
	}
	return nil
}

// states returns the court:state payloads sent to edge for user, in order.
func (m *fakeMesh) states(t *testing.T, edge, user string) []court.State {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []court.State
	for _, s := range m.events {
		if s.edge != edge || s.ev.UserID != user {
			continue
		}
		require.Equal(t, "court:state", s.ev.Name)
		var st court.State
		require.NoError(t, json.Unmarshal(s.ev.Payload, &st))
		out = append(out, st)
	}
	return out
}

// count returns how many events were sent to edge for user.
func (m *fakeMesh) count(edge, user string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.events {
		if s.edge == edge && s.ev.UserID == user {
			n++
		}
	}
	return n
}

// last returns the last event sent to edge for user.
func (m *fakeMesh) last(t *testing.T, edge, user string) (wire.Event, court.State) {
	t.Helper()
	states := m.states(t, edge, user)
	require.NotEmpty(t, states, "no state for %s at %s", user, edge)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.events) - 1; i >= 0; i-- {
		if s := m.events[i]; s.edge == edge && s.ev.UserID == user {
			return s.ev, states[len(states)-1]
		}
	}
	panic("unreachable")
}

// Edges of the test users.
const (
	edgeUS   = "edge-us-1"
	edgeAsia = "edge-asia-1"
	nodeID   = "home-us-1"
)

type harness struct {
	srv   *Server
	dir   Directory
	store Store
	mesh  *fakeMesh
	reg   *prometheus.Registry
}

type options struct {
	scale float64
	dir   Directory
	store Store
	judge judge.Judge
	node  string
	app   *appdata.Source
	// leaseTTL and claimInterval default to 300 ms and 20 ms.
	leaseTTL, claimInterval time.Duration
	// quiet discards the server's logs.
	quiet bool
	// mesh records the pushes; nil means a fresh one.
	mesh *fakeMesh
	// region is the node's region; empty means us.
	region string
	// afterCommit is Config.AfterCommit.
	afterCommit func(event string)
}

// start runs a home server until the test ends.
func start(t testing.TB, o options) *harness {
	t.Helper()
	if o.dir == nil {
		o.dir = directory.NewMemory()
	}
	if o.store == nil {
		o.store = store.NewMemory()
	}
	if o.judge == nil {
		o.judge = devJudge(t)
	}
	if o.node == "" {
		o.node = nodeID
	}
	if o.leaseTTL == 0 {
		o.leaseTTL = 300 * time.Millisecond
	}
	if o.claimInterval == 0 {
		o.claimInterval = 20 * time.Millisecond
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.quiet {
		log = slog.New(slog.DiscardHandler)
	}
	if o.mesh == nil {
		o.mesh = &fakeMesh{}
	}
	if o.region == "" {
		o.region = "us"
	}
	h := &harness{dir: o.dir, store: o.store, mesh: o.mesh, reg: prometheus.NewRegistry()}
	srv, err := New(Config{
		NodeID: o.node, Region: o.region, Directory: o.dir, Store: o.store, Judge: o.judge, App: o.app, Mesh: h.mesh, TimerScale: o.scale,
		LeaseTTL: o.leaseTTL, ClaimInterval: o.claimInterval, Logger: log, Registerer: h.reg, AfterCommit: o.afterCommit,
	})
	require.NoError(t, err)
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	<-srv.Ready()
	return h
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// pair returns two fresh user ids and records A on the us edge, B on asia.
func (h *harness) pair(t *testing.T) (string, string) {
	t.Helper()
	a, b := fmt.Sprintf("A-%s", t.Name()), fmt.Sprintf("B-%s", t.Name())
	require.NoError(t, h.dir.AddPresence(context.Background(), edgeUS, time.Minute, a))
	require.NoError(t, h.dir.AddPresence(context.Background(), edgeAsia, time.Minute, b))
	return a, b
}

type ack struct {
	OK    bool         `json:"ok"`
	Error string       `json:"error"`
	State *court.State `json:"state"`
}

// do sends event from user through edgeUS and decodes the ack.
func (h *harness) do(t *testing.T, user, event, payload string) (*wire.Response, ack) {
	t.Helper()
	req := &wire.Request{UserID: user, Event: event, EdgeNode: edgeUS, EdgeRegion: "us"}
	if payload != "" {
		req.Payload = json.RawMessage(payload)
	}
	resp, err := h.srv.HandleRequest(context.Background(), req)
	require.NoError(t, err)
	require.NotNil(t, resp)
	if resp.StateInDoc {
		require.Empty(t, resp.Ack)
		resp.Ack = h.mesh.ackFromDoc(t, edgeUS, user, resp)
	}
	var a ack
	require.NoError(t, json.Unmarshal(resp.Ack, &a), string(resp.Ack))
	if !a.OK {
		require.JSONEq(t, fmt.Sprintf(`{"message":%q}`, a.Error), string(resp.CourtError))
	}
	return resp, a
}

// serve serves b from a and checks it succeeded.
func (h *harness) serve(t *testing.T, a, b string) *wire.Response {
	t.Helper()
	resp, got := h.do(t, a, "court:serve", fmt.Sprintf(`{"partnerId":%q,"coupleId":null,"judgeType":"swift"}`, b))
	require.True(t, got.OK, got.Error)
	return resp
}

// eventually polls cond every 5 ms for up to 5 s.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, msg)
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	require.NoError(t, m.Write(&out))
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// devJudge returns the deterministic dev judge.
func devJudge(t testing.TB) judge.Judge {
	t.Helper()
	dev, err := judge.NewDev(judge.DevConfig{})
	require.NoError(t, err)
	return dev
}
