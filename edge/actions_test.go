package edge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

const idle = `{"phase":"IDLE","myViewPhase":"IDLE","session":null}`

func TestRegisterWithoutSession(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`420["court:register",{"userId":"mallory"}]`)
	name, payload := event(t, c.read())
	require.Equal(t, "court:state", name)
	require.JSONEq(t, idle, payload)
	require.Equal(t, `430[{"ok":true,"state":`+idle+`}]`, c.read())
	require.Empty(t, te.mesh.requests(), "IDLE is answered locally")
	require.Eventually(t, func() bool { added, _ := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1"); return added == 1 },
		3*time.Second, 5*time.Millisecond, "presence is for the JWT user, written after the ack")
	added, _ := te.dir.counts("mallory")
	require.Zero(t, added)
}

func TestRegisterWithSession(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-2"}
	state := `{"phase":"EVIDENCE","myViewPhase":"EVIDENCE","session":{"id":"s1"}}`
	te.mesh.setFn(func(_ context.Context, node string, req *wire.Request) (*wire.Response, error) {
		require.Equal(t, "home-us-2", node)
		return &wire.Response{Ack: json.RawMessage(`{"ok":true,"state":` + state + `}`), SessionID: "s1", Version: 3}, nil
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`427["court:register",{"userId":"a11ce000-0000-4000-8000-0000000000a1"}]`)
	name, payload := event(t, c.read())
	require.Equal(t, "court:state", name)
	require.JSONEq(t, state, payload)
	require.Equal(t, `437[{"ok":true,"state":`+state+`}]`, c.read())
	reqs := te.mesh.requests()
	require.Len(t, reqs, 1)
	require.NotEmpty(t, reqs[0].ID, "every action carries an id for deduplication")
	reqs[0].ID = ""
	require.Equal(t, wire.Request{UserID: "a11ce000-0000-4000-8000-0000000000a1", Event: "court:register", Payload: nil,
		EdgeNode: "edge-asia-1", EdgeRegion: "asia"}, reqs[0])
}

func TestActionForwarded(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-1"}
	te.mesh.setFn(func(_ context.Context, _ string, req *wire.Request) (*wire.Response, error) {
		if req.Event == "court:submit_evidence" {
			return &wire.Response{Ack: json.RawMessage(`{"ok":false,"error":"Not your turn"}`),
				CourtError: json.RawMessage(`{"message":"Not your turn"}`)}, nil
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true,"state":{"phase":"EVIDENCE"}}`), SessionID: "s1", Version: 2}, nil
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")

	// R1: the ack is delivered although the payload is {}.
	c.write(`4212["court:accept",{}]`)
	require.Equal(t, `4312[{"ok":true,"state":{"phase":"EVIDENCE"}}]`, c.read())

	c.write(`4213["court:submit_evidence",{"evidence":"e","feelings":"f","needs":"n"}]`)
	name, payload := event(t, c.read())
	require.Equal(t, "court:error", name)
	require.JSONEq(t, `{"message":"Not your turn"}`, payload)
	require.Equal(t, `4313[{"ok":false,"error":"Not your turn"}]`, c.read())

	// No payload and no ack id: forwarded empty (an explicit null would be
	// forwarded as null, for the home to refuse), nothing comes back.
	c.write(`42["court:cancel"]`)
	c.write(`4214["court:serve","not an object"]`)
	require.Equal(t, `4314[{"ok":true,"state":{"phase":"EVIDENCE"}}]`, c.read())

	// Actions of one socket run concurrently, like the original server's.
	require.Eventually(t, func() bool { return len(te.mesh.requests()) == 4 }, 3*time.Second, 5*time.Millisecond)
	payloads := map[string]string{}
	reqs := te.mesh.requests()
	for _, r := range reqs {
		payloads[r.Event] = string(r.Payload)
	}
	require.Equal(t, map[string]string{
		"court:accept":          `{}`,
		"court:submit_evidence": `{"evidence":"e","feelings":"f","needs":"n"}`,
		"court:cancel":          ``,
		"court:serve":           `"not an object"`,
	}, payloads)
	for _, r := range reqs {
		require.Equal(t, "a11ce000-0000-4000-8000-0000000000a1", r.UserID)
		require.Empty(t, r.HomeRegion, "the session has a home already")
	}
	require.Equal(t, 1.0, counterValue(te.s.m.actions.WithLabelValues("court:submit_evidence", resultRejected)))
}

func TestNewSessionGoesToPolicyHome(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.mesh.setFn(func(_ context.Context, _ string, req *wire.Request) (*wire.Response, error) {
		if req.HomeRegion != "us" {
			return nil, errors.New("wrong home region " + req.HomeRegion)
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	for i := range 3 {
		c.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
		require.Equal(t, `431[{"ok":true}]`, c.read(), "round %d", i)
	}
	nodes := te.mesh.targets()
	require.Len(t, nodes, 3)
	require.Equal(t, nodes[0], nodes[1], "the choice is stable")
	require.Equal(t, nodes[0], nodes[2])
}

func TestNotOwnerRetriesWithFreshLookup(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-1"}
	te.dir.fresh["a11ce000-0000-4000-8000-0000000000a1"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-2"}
	te.mesh.setFn(func(_ context.Context, node string, _ *wire.Request) (*wire.Response, error) {
		if node == "home-us-1" {
			return nil, &wire.Error{Code: wire.CodeNotOwner, Reason: "moved"}
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true,"from":"2"}`)}, nil
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`421["court:accept",{}]`)
	require.Equal(t, `431[{"ok":true,"from":"2"}]`, c.read())
	require.Len(t, te.mesh.requests(), 2)
}

func TestMeshUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(te *testEdge)
	}{
		{"mesh error", func(te *testEdge) {
			te.mesh.setFn(func(context.Context, string, *wire.Request) (*wire.Response, error) {
				return nil, &wire.Error{Code: wire.CodeUnavailable, Reason: "link down"}
			})
		}},
		{"timeout", func(te *testEdge) {
			te.mesh.setFn(func(ctx context.Context, _ string, _ *wire.Request) (*wire.Response, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
		}},
		{"no home node", func(te *testEdge) { te.mesh.nodes = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			te := newTestEdge(t, func(c *Config) { c.RequestTimeout = 50 * time.Millisecond })
			tc.setup(te)
			c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
			c.write(`425["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
			name, payload := event(t, c.read())
			require.Equal(t, "court:error", name)
			require.JSONEq(t, `{"message":"Court service unavailable. Please try again.","code":"SERVICE_UNAVAILABLE"}`, payload)
			require.Equal(t, `435[{"ok":false,"error":"Court service unavailable. Please try again."}]`, c.read())
		})
	}
}

func TestRegisterUnavailable(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-1"}
	te.mesh.setFn(func(context.Context, string, *wire.Request) (*wire.Response, error) {
		return nil, errors.New("boom")
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`420["court:register",{}]`)
	name, _ := event(t, c.read())
	require.Equal(t, "court:error", name)
	require.Equal(t, `430[{"ok":false,"error":"Court service unavailable. Please try again."}]`, c.read())
}

func TestUnknownEvent(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	for _, ev := range []string{"court:hack", "hello"} {
		c.write(`423["` + ev + `",{}]`)
		name, payload := event(t, c.read())
		require.Equal(t, "court:error", name)
		require.JSONEq(t, `{"message":"Unknown event","code":"UNKNOWN_EVENT"}`, payload)
		require.Equal(t, `433[{"ok":false,"error":"Unknown event"}]`, c.read())
	}
	require.Empty(t, te.mesh.requests())
	require.Equal(t, 2.0, counterValue(te.s.m.actions.WithLabelValues(protocol.LabelOther, resultUnknown)))
}

// TestTemporaryFailuresAreRetried: while a home failover is under way the
// home answers not_owner or unavailable; the edge retries with fresh
// directory reads, with the same request id, and the client gets the ack of
// the try that worked.
func TestTemporaryFailuresAreRetried(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	var mu sync.Mutex
	var ids []string
	te.mesh.setFn(func(_ context.Context, _ string, req *wire.Request) (*wire.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, req.ID)
		switch len(ids) {
		case 1:
			return nil, &wire.Error{Code: wire.CodeNotOwner, Reason: "moved", Temporary: true}
		case 2:
			return nil, &wire.Error{Code: wire.CodeUnavailable, Reason: "taking over", Temporary: true}
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`427["court:accept",{}]`)
	require.Equal(t, `437[{"ok":true}]`, c.read())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, ids, 3)
	require.Equal(t, ids[0], ids[2], "one request id across the retries")
}
