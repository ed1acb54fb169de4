package loadgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWANReport: the asia rows load from their files and are checked
// against the targets: connect + register under 20 ms, each action within
// one mesh RTT + 10 ms at p50 and p99.
func TestWANReport(t *testing.T) {
	dir := t.TempDir()
	w, err := LoadWAN(dir)
	require.NoError(t, err)
	require.Nil(t, w, "no asia rows")
	write := func(name string, reg, serve Summary) {
		data, err := json.Marshal(Result{ConnectRegister: reg, Actions: map[string]Summary{ActServe: serve}})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	write("ours-wan-asia-before.json", Summary{P50: 304, P99: 310}, Summary{P50: 310, P99: 330})
	write("ours-wan-asia-after.json", Summary{P50: 2.1, P99: 5}, Summary{P50: 158, P99: 171})
	w, err = LoadWAN(dir)
	require.NoError(t, err)
	require.Nil(t, w.US, "a run that is missing stays nil")
	var b strings.Builder
	w.WriteMarkdown(&b, 150*time.Millisecond)
	lines := strings.Split(b.String(), "\n")
	require.Equal(t, "| connect+register | – | 304.0 / 310.0 ms | 2.1 / 5.0 ms | p50 < 20 ms, user in no session | met (p50 2.1 ms) |", lines[2])
	require.Equal(t, "| serve | – | 310.0 / 330.0 ms | 158.0 / 171.0 ms | ≤ one mesh RTT + 10 ms (160 ms) | p50 met (158.0 ms); p99 **missed** (171.0 ms) |", lines[3])
}
