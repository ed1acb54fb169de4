package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/judge"
	"courtmesh/home/store"
)

// TestSessionRoundTrip writes a session with every big value set, then
// transitions that change none, some or all of them (with and without the
// previous session), and reads each back with Get, Fence and FenceMany: the
// session comes back unchanged, its raw values compact and escaped as
// json.Marshal writes them, and the doc column holds none of them.
func TestSessionRoundTrip(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	s := bigSession(t)
	s.HybridResolution = json.RawMessage(`{"title": "spaced <out> & \u2028", "n": [1, 2]}`)
	s.AddendumHistory = []court.Addendum{{UserID: s.CreatorID, FromUser: "userA", Text: "also <this>", SubmittedAt: 5}}
	s.Creator.Evidence, s.Partner.Needs = ptr("she said <x>"), ptr("")
	require.NoError(t, st.Create(ctx, store.Create{Session: s, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"}))
	check := func(want *court.Session) {
		t.Helper()
		got, err := st.Get(ctx, want.ID)
		require.NoError(t, err)
		sameSession(t, want, got)
		for _, raw := range []json.RawMessage{got.Verdict, got.Analysis, got.Resolutions, got.AssessedIntensity,
			got.PrimingContent, got.JointMenu, got.HybridResolution, got.FinalResolution, got.VerdictHistory[0].Content} {
			if raw == nil {
				continue
			}
			canonical, err := json.Marshal(raw)
			require.NoError(t, err)
			require.Equal(t, string(canonical), string(raw))
		}
		var doc court.Session
		require.NoError(t, pool.QueryRow(ctx, `SELECT doc FROM court_sessions WHERE id = $1`, want.ID).Scan(&doc))
		require.Equal(t, "null", string(doc.Verdict))
		require.Equal(t, "null", string(doc.Analysis))
		require.Nil(t, doc.VerdictHistory)
	}
	check(s)

	prev := s
	steps := map[string]func(*court.Session){
		"nothing big": func(n *court.Session) { n.Creator.VerdictAccepted = true },
		"verdict": func(n *court.Session) {
			n.Verdict = json.RawMessage(`{"status":"success","v":2}`)
			n.VerdictHistory = append(n.VerdictHistory, court.VerdictVersion{Version: 2, Content: n.Verdict, AddendumBy: ptr("userA")})
		},
		"resolution":   func(n *court.Session) { n.HybridResolution, n.FinalResolution = nil, json.RawMessage(`{"id":"r"}`) },
		"deliberation": func(n *court.Session) { n.Analysis, n.JointMenu = json.RawMessage(`{"a":1}`), json.RawMessage(`null`) },
		"evidence":     func(n *court.Session) { n.Partner.Evidence = ptr("he said") },
		"addenda":      func(n *court.Session) { n.AddendumHistory = append(n.AddendumHistory, court.Addendum{Text: "more"}) },
	}
	for _, withPrev := range []bool{true, false} {
		for name, change := range steps {
			n := prev.Clone()
			n.Version++
			change(n)
			c := store.Commit{Prev: prev.Version, Session: n, Epoch: 1, Node: "n1", Event: name}
			if withPrev {
				c.PrevSession = prev
			}
			require.NoError(t, st.Commit(ctx, c), name)
			check(n)
			prev = n
		}
	}

	got, err := st.Fence(ctx, s.ID, 2)
	require.NoError(t, err)
	sameSession(t, prev, got)
	many, err := st.FenceMany(ctx, []store.SessionEpoch{{ID: s.ID, Epoch: 3}})
	require.NoError(t, err)
	sameSession(t, prev, many[s.ID])
}

// TestCommitWithStalePrevSession writes every column when PrevSession is
// not the session at Prev.
func TestCommitWithStalePrevSession(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	s := bigSession(t)
	require.NoError(t, st.Create(ctx, store.Create{Session: s, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"}))
	n := s.Clone()
	n.Version++
	n.Verdict = json.RawMessage(`{"status":"success","v":2}`)
	stale := n.Clone() // claims the verdict is already written
	stale.Version = s.Version + 7
	require.NoError(t, st.Commit(ctx, store.Commit{Prev: s.Version, Session: n, PrevSession: stale, Epoch: 1, Node: "n1", Event: "x"}))
	got, err := st.Get(ctx, s.ID)
	require.NoError(t, err)
	sameSession(t, n, got)
}

// TestColumnsAreTheirJSON checks the JSON columns written at every commit
// without reflection against json.Marshal of what they hold, byte for byte:
// doc (court.AppendJSON), settle_requests and verdict_acceptances; at every
// version of a whole session with the dev judge's outputs, through its
// end, each also with a settlement asked for, and for a VERDICT session
// with every big value, addenda and texts to escape.
func TestColumnsAreTheirJSON(t *testing.T) {
	t.Parallel()
	type settle struct {
		Creator     bool   `json:"creator"`
		Partner     bool   `json:"partner"`
		RequestedAt *int64 `json:"requestedAt"`
	}
	check := func(s *court.Session) {
		t.Helper()
		requester := ""
		if s.SettlementRequested != nil {
			requester = *s.SettlementRequested
		}
		want := map[string]any{
			"doc":                 store.DocOf(s),
			"settle_requests":     settle{requester != "" && requester == s.CreatorID, requester != "" && requester == s.PartnerID, s.SettlementRequestedAt},
			"verdict_acceptances": map[string]bool{"creator": s.Creator.VerdictAccepted, "partner": s.Partner.VerdictAccepted},
		}
		for name, v := range want {
			want, err := json.Marshal(v)
			require.NoError(t, err)
			got, err := store.Column(s, name)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s: version %d, %s", name, s.Version, s.Phase)
		}
		asked := s.Clone()
		for _, by := range []string{s.CreatorID, s.PartnerID, "someone else"} {
			asked.SettlementRequested, asked.SettlementRequestedAt = &by, ptr(int64(1700000000000))
			want, err := json.Marshal(settle{by == s.CreatorID, by == s.PartnerID, asked.SettlementRequestedAt})
			require.NoError(t, err)
			got, err := store.Column(asked, "settle_requests")
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		}
	}
	dev, err := judge.NewDev(judge.DevConfig{})
	require.NoError(t, err)
	creator, partner := newID(), newID()
	s, err := court.NewSession(newID(), creator, partner, "", "", time.Now(), durations)
	require.NoError(t, err)
	check(s)
	for i, step := range happyPath(t.Context(), dev, creator, partner, newID()) {
		n := s.Clone()
		require.NoError(t, step(n), "step %d", i)
		check(n)
		s = n
	}
	require.True(t, s.Ended())
	big := bigSession(t)
	big.HistoricalContext = json.RawMessage(`{"earlier": [1, "<two>"]}`)
	big.AddendumHistory = []court.Addendum{{UserID: big.CreatorID, FromUser: "userA", Text: "also <this> & \u2028", SubmittedAt: 5}}
	big.Creator.Evidence, big.Partner.Needs = ptr("she said \"<x>\"\n"), ptr("")
	check(big)
}
