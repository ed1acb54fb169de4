package court_test

import (
	"testing"

	"courtmesh/home/court"
)

// BenchmarkTransitionFloor is the cheapest possible transition of a
// VERDICT-sized session (a court:state of about 46 KiB), the floor of
// docs/performance.md: the pure state machine step (a copy of the session,
// so the previous one stays for the fenced commit, and one verdict
// acceptance) and the encoding of both users' court:state. No mesh, no
// store, no socket. The session keeps its encodings, as a home's held
// session does.
func BenchmarkTransitionFloor(b *testing.B) {
	prev := verdictSized(b)
	prev.Partner.VerdictAccepted = false // the creator's acceptance stays in VERDICT
	prev.KeepEncodings()                 // as the home holds it
	var size int
	b.ReportAllocs()
	for b.Loop() {
		next := prev.Clone()
		if err := next.AcceptVerdict("alice", "", t0, d1); err != nil {
			b.Fatal(err)
		}
		next.Version++
		next.TakeEffects()
		enc, err := court.NewStateEncoder(next)
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, u := range next.Users() {
			size += len(enc.AppendState(nil, u))
		}
		if !next.Creator.VerdictAccepted || next.Phase != court.PhaseVerdict {
			b.Fatalf("the step did not land: phase %s", next.Phase)
		}
	}
	b.ReportMetric(float64(size), "state-bytes/op")
}
