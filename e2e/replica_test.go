package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
)

// replicaLag is how long TestStaleReplicaReads stops the replication.
const replicaLag = 5 * time.Second

// TestStaleReplicaReads: both edges read the directory from a real Redis
// replica, whose replication is stopped for 5 s. Meanwhile a session
// migrates to the other home and its couple acts from both edges, routed
// first by the replica's stale route to the old owner; a new session is
// created on the asia edge and its partner, whose claim the replica lacks,
// accepts it; and a second socket of that partner registers, answered IDLE
// from the replica. Each action is redirected when the home it reached
// answers not_owner, and applied once, by the session's one owner: the
// versions are committed once each, every transition after the move
// carries the new epoch, and the IDLE answer is corrected by a resync.
func TestStaleReplicaReads(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOpts{homes: 2, replica: true})
	rdb := redistest.Client(t)
	rep, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{strings.TrimPrefix(c.replica.URL, "redis://")}, DisableCache: true})
	require.NoError(t, err)
	t.Cleanup(rep.Close)
	replicaOwner := func(sid string) string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		owner, _ := rep.Do(ctx, rep.B().Hget().Key(c.redisPrefix+"route:"+sid).Field("owner_node").Build()).ToString()
		return owner
	}
	opDir := filepath.Join(c.pkiDir, "op-replica")
	_, errOut, code := c.ctl(t, nil, "cert", "create", "--ca-dir", filepath.Join(c.pkiDir, "ca"), "--operator", "--name", "replica", "--out", opDir)
	require.Zero(t, code, errOut)

	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")
	from, epoch, ok := c.route(rdb, sid)
	require.True(t, ok)
	require.Eventually(t, func() bool { return replicaOwner(sid) == from }, 5*time.Second, 20*time.Millisecond)

	c.replica.Detach(t)
	stopped := time.Now()
	to := "home-us-1"
	if from == to {
		to = "home-us-2"
	}
	_, errOut, code = c.ctl(t, []string{"COURTCTL_TLS_DIR=" + opDir}, "migrate", "session", sid, "--to", to, "--wait")
	require.Zero(t, code, "courtctl migrate: %s", errOut)
	owner, moved, _ := c.route(rdb, sid)
	require.Equal(t, to, owner)
	require.Equal(t, epoch+1, moved)
	require.Equal(t, from, replicaOwner(sid), "the replica still routes to the old owner")
	a.must(t, "court:submit_evidence", evidence)
	b.must(t, "court:submit_evidence", evidence)
	a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))

	cr, d := connect(t, c, c.asiaURL), connect(t, c, c.asiaURL)
	served := cr.must(t, "court:serve", map[string]any{"partnerId": d.id, "coupleId": nil, "judgeType": "swift"})
	sid2 := served.State.Session.ID
	require.Empty(t, replicaOwner(sid2), "the replica does not know the new session")
	d.must(t, "court:accept", map[string]any{})
	d2 := connectAs(t, c, c.asiaURL, d.id)
	d2.waitState(t, "EVIDENCE (resync after an IDLE register)", 10*time.Second, phase("EVIDENCE"))
	d2.mu.Lock()
	first := d2.states[0].Phase
	d2.mu.Unlock()
	require.Equal(t, "IDLE", first, "the asia edge answered the register from the stale replica")
	require.NotEqual(t, "0", metricLine(t, c.edgeOps["asia"], `court_edge_resyncs_total{event="register"}`),
		"then resynced it once the primary showed the session")
	require.Less(t, time.Since(stopped), replicaLag, "every action above ran while the replication was stopped")
	time.Sleep(time.Until(stopped.Add(replicaLag)))
	c.replica.Attach(t)
	require.Eventually(t, func() bool { return replicaOwner(sid) == to }, 5*time.Second, 20*time.Millisecond)

	c.requireHistory(t, sid)
	versions, events, epochs := c.transitions(t, sid)
	for i, ev := range events {
		if ev == "submit_evidence" {
			require.Equal(t, moved, epochs[i], "version %d committed by the new owner only", versions[i])
		}
	}
	require.Equal(t, 2, countOf(events, "submit_evidence"), "each submission applied once: %v", events)
	c.requireHistory(t, sid2)
	_, events2, _ := c.transitions(t, sid2)
	require.Equal(t, 1, countOf(events2, "accept"), "the accept applied once: %v", events2)
	a.versionsInOrder(t, sid)
	b.versionsInOrder(t, sid)
}

func countOf(events []string, e string) int {
	n := 0
	for _, ev := range events {
		if ev == e {
			n++
		}
	}
	return n
}
