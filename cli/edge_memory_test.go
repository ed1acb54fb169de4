package cli

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestDefaultGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	t.Setenv("GOGC", "100")
	defaultGCPercent(edgeGCPercent)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("with GOGC set, GOGC = %d, want the operator's 100", got)
	}

	os.Unsetenv("GOGC") // t.Setenv restores it
	defaultGCPercent(edgeGCPercent)
	if got := debug.SetGCPercent(100); got != edgeGCPercent {
		t.Fatalf("without GOGC, GOGC = %d, want %d", got, edgeGCPercent)
	}
}
