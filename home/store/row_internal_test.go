package store

import (
	"testing"

	"courtmesh/home/court"
)

// TestColumnCountIsTheCount keeps columnCount, the room sessionCols
// allocates at once, equal to the columns it returns.
func TestColumnCountIsTheCount(t *testing.T) {
	s := &court.Session{ID: "s1", Phase: court.PhaseEvidence}
	cols, err := sessionCols(s, rowState{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != columnCount {
		t.Fatalf("sessionCols returns %d columns, columnCount is %d", len(cols), columnCount)
	}
}
