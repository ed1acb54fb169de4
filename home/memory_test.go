package home

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// heapInUse is the heap held by live objects after a full collection: the
// inuse_space total of a heap profile, exactly. With
// COURT_HEAP_PROFILE_DIR set it also writes a heap profile named stage
// there, for `go tool pprof -sample_index=inuse_space`.
func heapInUse(t *testing.T, h *harness, stage string) int64 {
	t.Helper()
	if h != nil {
		// The fake mesh records every push and keeps the edges' copies of
		// the documents; the home holds none of them.
		h.mesh.mu.Lock()
		h.mesh.events, h.mesh.docs = nil, nil
		h.mesh.mu.Unlock()
	}
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if dir := os.Getenv("COURT_HEAP_PROFILE_DIR"); dir != "" {
		f, err := os.Create(filepath.Join(dir, stage+".pprof"))
		require.NoError(t, err)
		require.NoError(t, pprof.WriteHeapProfile(f))
		require.NoError(t, f.Close())
	}
	return int64(m.HeapAlloc)
}

// TestHomeMemoryFollowsLiveSessions measures what a home holds per live
// session (sessions in PRIMING, the judge's analysis included), per recent
// request id and once the sessions ended, and bounds each: a recent request
// costs an outcome of a few hundred bytes, not a copy of its state, and an
// ended session leaves nothing but its outcomes (docs/performance.md).
func TestHomeMemoryFollowsLiveSessions(t *testing.T) {
	const sessions, requests = 300, 20000
	base := heapInUse(t, nil, "0-base")
	// Real timers, so no phase expires while 300 sessions are set up, and a
	// lease long enough that a loaded machine (the race detector, the other
	// packages' tests) cannot starve its renewal: nothing here fails over.
	h := start(t, options{quiet: true, scale: 1, leaseTTL: 3 * time.Second})
	started := heapInUse(t, h, "1-started")

	users := make([][2]string, sessions)
	for i := range users {
		users[i] = [2]string{fmt.Sprintf("mem-a-%04d", i), fmt.Sprintf("mem-b-%04d", i)}
		a, b := users[i][0], users[i][1]
		h.serve(t, a, b)
		for _, step := range []struct{ user, event, payload string }{
			{b, protocol.Accept, `{}`},
			{a, protocol.SubmitEvidence, evidencePayload(a)},
			{b, protocol.SubmitEvidence, evidencePayload(b)},
		} {
			_, got := h.do(t, step.user, step.event, step.payload)
			require.True(t, got.OK, got.Error)
		}
	}
	for _, u := range users {
		eventually(t, func() bool {
			resp, err := h.srv.HandleRequest(context.Background(), &wire.Request{UserID: u[0], Event: protocol.ReadState})
			return err == nil && strings.Contains(string(resp.Ack), `"phase":"PRIMING"`)
		}, "the judge's analysis is in")
	}
	live := heapInUse(t, h, "2-live")

	for i := range requests {
		req := &wire.Request{ID: fmt.Sprintf("req-%08d-%s", i, strings.Repeat("x", 8)), UserID: "idle-user",
			Event: protocol.Accept, Payload: []byte(`{}`)}
		_, err := h.srv.HandleRequest(context.Background(), req)
		require.NoError(t, err)
	}
	recent := heapInUse(t, h, "3-recent")

	for _, u := range users {
		_, got := h.do(t, u[0], protocol.Dismiss, `{}`)
		require.True(t, got.OK, got.Error)
	}
	eventually(t, func() bool { return len(h.srv.rt.reg.all()) == 0 }, "every session dropped")
	ended := heapInUse(t, h, "4-ended")

	perSession := (live - started) / sessions
	perRequest := (recent - live) / requests
	leftPerSession := (ended - (started + (recent - live))) / sessions
	t.Logf("fixed overhead %d KiB; per live session %d B; per recent request %d B; left per ended session %d B",
		(started-base)>>10, perSession, perRequest, leftPerSession)
	require.Equal(t, requests, h.srv.rt.answers.len())
	require.Less(t, perRequest, int64(512), "an outcome, not a state")
	require.Less(t, perSession, int64(64<<10))
	require.Less(t, leftPerSession, int64(4<<10), "an ended session leaves nothing behind (map buckets aside)")
	runtime.KeepAlive(h)
}

// evidencePayload is a submission of a realistic size: a few paragraphs.
func evidencePayload(user string) string {
	text := strings.Repeat("We keep arguing about the dishes and who does them. ", 20)
	return fmt.Sprintf(`{"evidence":%q,"feelings":%q,"needs":%q}`, user+": "+text, text[:400], text[:300])
}
