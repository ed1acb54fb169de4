package store_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

// BenchmarkFenceMany fences 10 000 sessions per op, as a failover of a
// loaded home node would.
func BenchmarkFenceMany(b *testing.B) {
	st, _ := newStore(b)
	const n = 10_000
	want := make([]store.SessionEpoch, n)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range want {
		g.Go(func() error {
			s, err := court.NewSession(newID(), newUser("c"), newUser("p"), "", "", time.Now(), durations)
			if err != nil {
				return err
			}
			want[i].ID = s.ID
			return st.Create(b.Context(), store.Create{Session: s, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"})
		})
	}
	require.NoError(b, g.Wait())
	epoch := uint64(1)
	b.ResetTimer()
	for b.Loop() {
		epoch++
		for i := range want {
			want[i].Epoch = epoch
		}
		fenced, err := st.FenceMany(b.Context(), want)
		require.NoError(b, err)
		require.Len(b, fenced, n)
	}
}

// bigSession returns a VERDICT session whose LLM outputs weigh about as
// much as real ones (some 46 KiB).
func bigSession(tb testing.TB) *court.Session {
	s, err := court.NewSession(newID(), newUser("c"), newUser("p"), "", "", time.Now(), durations)
	require.NoError(tb, err)
	text := strings.Repeat("We both want the evening to feel fair, calm & kind; let's talk it through. ", 18)
	res := make([]map[string]string, 3)
	for i := range res {
		res[i] = map[string]string{"id": fmt.Sprintf("resolution_%d", i+1), "title": "Take turns",
			"combinedDescription": text, "rationale": text, "howItMeetsNeeds": text}
	}
	enc := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		require.NoError(tb, err)
		return b
	}
	s.Phase = court.PhaseVerdict
	s.Resolutions = enc(res)
	s.Analysis = enc(map[string]any{"summary": text, "resolutions": res, "caseMetadata": map[string]string{"caseTitle": "The dishes"}})
	s.AssessedIntensity = json.RawMessage(`"moderate"`)
	s.PrimingContent = enc(map[string]any{"userA": map[string]string{"a": text, "b": text}, "userB": map[string]string{"a": text, "b": text}})
	s.JointMenu = enc(map[string]string{"theSummary": text, "closingWisdom": text})
	s.Verdict = enc(map[string]any{"status": "success", "judgeContent": map[string]string{"theVerdict": text, "theRuling": text}})
	s.VerdictHistory = []court.VerdictVersion{{Version: 1, Content: s.Verdict, CreatedAt: "2024-01-01T00:00:00Z"}}
	s.FinalResolution = enc(res[0])
	pick := "resolution_1"
	s.UserAResolutionPick, s.UserBResolutionPick = &pick, &pick
	return s
}

// BenchmarkCommit commits small transitions (a flag flips) of a
// VERDICT-sized session, one after the other.
func BenchmarkCommit(b *testing.B) {
	st, pool := newStore(b)
	prev := bigSession(b)
	require.NoError(b, st.Create(b.Context(), store.Create{Session: prev, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"}))
	b.ReportAllocs()
	cpu0, n := pgtest.BackendCPU(b, pool), 0
	for b.Loop() {
		n++
		next := prev.Clone()
		next.Version++
		next.Creator.VerdictAccepted = !next.Creator.VerdictAccepted
		require.NoError(b, st.Commit(b.Context(), store.Commit{Prev: prev.Version, Session: next, PrevSession: prev, Epoch: 1, Node: "n1", Event: "accept"}))
		prev = next
	}
	b.ReportMetric(float64(pgtest.CPUSince(b, pool, cpu0))/1e3/float64(n), "pg-cpu-us/op")
}
