package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
	"courtmesh/home/outbox/signature"
	"courtmesh/loadgen"
)

// e2eWebhookSecret signs the outbox's POSTs in every e2e cluster
// (COURT_WEBHOOK_SECRET).
var e2eWebhookSecret = signature.FormatSecret([]byte("courtmesh e2e webhook secret!!"))

// webhook is the outbox's receiver: it verifies each signature, as a real
// receiver does, and counts deliveries by idempotency key.
type webhook struct {
	url string
	mu  sync.Mutex
	got map[string]int // guarded by mu
}

func newWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{got: map[string]int{}}
	key, err := signature.ParseSecret(e2eWebhookSecret)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := signature.Verify(key, r.Header, body, time.Now(), 0)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
		w.mu.Lock()
		w.got[id]++
		w.mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// drained waits until the store has no undelivered outbox row.
func (c *cluster) drained(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := c.pool.QueryRow(context.Background(), `SELECT count(*) FROM court_outbox WHERE delivered_at IS NULL`).Scan(&n)
		return err == nil && n == 0
	}, 20*time.Second, 50*time.Millisecond, "outbox drained")
}

// requireEachOnce checks that every outbox row reached the webhook exactly once.
func (w *webhook) requireEachOnce(t *testing.T, c *cluster) {
	t.Helper()
	c.drained(t)
	var rows int
	require.NoError(t, c.pool.QueryRow(context.Background(), `SELECT count(*) FROM court_outbox`).Scan(&rows))
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(t, w.got, rows, "every outbox row delivered")
	for key, n := range w.got {
		require.Equal(t, 1, n, "outbox row %s delivered %d times", key, n)
	}
}

// route returns a session's owner node and epoch from Redis; ok is false
// once the session has left the directory (it ended).
func (c *cluster) route(rdb rueidis.Client, sid string) (owner string, epoch uint64, ok bool) {
	m, err := rdb.Do(context.Background(), rdb.B().Hgetall().Key(c.redisPrefix+"route:"+sid).Build()).AsStrMap()
	if err != nil || len(m) == 0 {
		return "", 0, false
	}
	epoch, err = strconv.ParseUint(m["epoch"], 10, 64)
	return m["owner_node"], epoch, err == nil
}

// reowned reports whether another node than owner holds the session at the
// next epoch: in the directory, or, if the session already ended, by the
// epoch of its last committed transition.
func (c *cluster) reowned(t *testing.T, rdb rueidis.Client, sid, owner string, epoch uint64) bool {
	if o, e, ok := c.route(rdb, sid); ok {
		return o != owner && e == epoch+1
	}
	var last int64
	err := c.pool.QueryRow(context.Background(),
		`SELECT owner_epoch FROM court_transitions WHERE session_id = $1 ORDER BY version DESC LIMIT 1`, sid).Scan(&last)
	return err == nil && uint64(last) == epoch+1
}

// home returns the process of home node id.
func (c *cluster) home(t *testing.T, id string) *proc {
	t.Helper()
	for i, h := range c.homeIDs {
		if h == id {
			return c.homes[i]
		}
	}
	t.Fatalf("no home %q", id)
	return nil
}

// transitions returns the committed versions of a session, their events and
// owner epochs, in version order.
func (c *cluster) transitions(t *testing.T, sid string) (versions []uint64, events []string, epochs []uint64) {
	t.Helper()
	rows, err := c.pool.Query(context.Background(),
		`SELECT version, event, owner_epoch FROM court_transitions WHERE session_id = $1 ORDER BY version`, sid)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var v, e int64
		var ev string
		require.NoError(t, rows.Scan(&v, &ev, &e))
		versions, events, epochs = append(versions, uint64(v)), append(events, ev), append(epochs, uint64(e))
	}
	require.NoError(t, rows.Err())
	return versions, events, epochs
}

// requireHistory checks that a session's versions were committed once each,
// with no gap, and that owner epochs never went back.
func (c *cluster) requireHistory(t *testing.T, sid string) []string {
	t.Helper()
	versions, events, epochs := c.transitions(t, sid)
	for i, v := range versions {
		require.Equal(t, uint64(i+1), v, "versions of %s: %v", sid, versions)
		if i > 0 {
			require.GreaterOrEqual(t, epochs[i], epochs[i-1], "epochs of %s: %v", sid, epochs)
		}
	}
	return events
}

// finish drives a session on from phase from to CLOSED, by accepting the
// verdict (or, from VERDICT, by letting its timer auto-accept).
func finish(t *testing.T, a, b *user, from string) {
	t.Helper()
	order := []string{"PENDING", "EVIDENCE", "PRIMING", "JOINT_READY", "RESOLUTION", "VERDICT"}
	started := false
	for _, p := range order {
		if p == from {
			started = true
			continue
		}
		if !started {
			continue
		}
		switch p {
		case "EVIDENCE":
			b.must(t, "court:accept", map[string]any{})
		case "PRIMING":
			a.must(t, "court:submit_evidence", evidence)
			b.must(t, "court:submit_evidence", evidence)
			a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))
		case "JOINT_READY":
			a.must(t, "court:priming_complete", map[string]any{})
			b.must(t, "court:priming_complete", map[string]any{})
		case "RESOLUTION":
			a.must(t, "court:joint_ready", map[string]any{})
			b.must(t, "court:joint_ready", map[string]any{})
		case "VERDICT":
			a.must(t, "court:resolution_pick", map[string]any{"resolutionId": "resolution_1"})
			b.must(t, "court:resolution_pick", map[string]any{"resolutionId": "resolution_1"})
		}
	}
	if from != "VERDICT" {
		a.must(t, "court:accept_verdict", map[string]any{})
		b.must(t, "court:accept_verdict", map[string]any{})
	}
	a.waitState(t, "CLOSED", 30*time.Second, phase("CLOSED"))
	b.waitState(t, "CLOSED", 30*time.Second, phase("CLOSED"))
}

// TestKillOwnerInEachPhase kills -9 the home node that owns a session, in
// each phase, with three home nodes as separate processes on the real Redis
// and Postgres: another node takes the session over with the next owner
// epoch, the session goes on (the PENDING session's timer, re-armed from
// its stored deadline, tosses it; the VERDICT session's timer auto-accepts), every transition is
// committed once, no client sees a state go back, and every outbox row
// reaches the webhook exactly once.
func TestKillOwnerInEachPhase(t *testing.T) {
	hook := newWebhook(t)
	// PENDING 3 s (about due when a takeover is done), the 1 h phases 18 s.
	c := startCluster(t, clusterOpts{homes: 3, timerScale: "0.005", homeArgs: []string{"--webhook", hook.url}})
	rdb := redistest.Client(t)
	for _, ph := range []string{"PENDING", "EVIDENCE", "PRIMING", "JOINT_READY", "RESOLUTION", "VERDICT"} {
		a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
		sid := driveTo(t, a, b, ph)
		c.drained(t)
		owner, epoch, ok := c.route(rdb, sid)
		require.True(t, ok)
		p := c.home(t, owner)
		killed := time.Now()
		p.kill(t)
		require.Eventually(t, func() bool { return c.reowned(t, rdb, sid, owner, epoch) },
			10*time.Second, 20*time.Millisecond, "%s: session re-owned with the next epoch", ph)
		t.Logf("%s: %s killed; session re-owned in %v", ph, owner, time.Since(killed).Round(time.Millisecond))
		p.restart(t)

		if ph == "PENDING" {
			a.waitEnded(t, sid, 15*time.Second)
		} else {
			finish(t, a, b, ph)
		}
		events := c.requireHistory(t, sid)

		timeouts := 0
		for _, ev := range events {
			if ev == "timeout" {
				timeouts++
			}
		}
		if ph == "PENDING" || ph == "VERDICT" {
			require.Equal(t, 1, timeouts, "%s: the timer fired exactly once: %v", ph, events)
		}
		for _, u := range []*user{a, b} {
			for v, n := range u.versionsInOrder(t, sid) {
				require.Equal(t, 1, n, "%s: version %d pushed %d times to %s", ph, v, n, u.id)
			}
		}
		if ph != "PENDING" {
			var cases, verdicts int
			require.NoError(t, c.pool.QueryRow(context.Background(),
				`SELECT count(*), (SELECT count(*) FROM verdicts v JOIN court_sessions s ON v.case_id = s.case_id WHERE s.id = $1)
				 FROM cases WHERE id = (SELECT case_id FROM court_sessions WHERE id = $1)`, sid).Scan(&cases, &verdicts))
			require.Equal(t, 1, cases, "%s: one case", ph)
			require.Equal(t, 1, verdicts, "%s: one verdict row", ph)
		}
	}
	hook.requireEachOnce(t, c)
}

// TestPausedOwnerStepsDown stops (SIGSTOP) the owner of a session past its
// lease while the partner acts, so another node takes the session over and
// commits; then the old owner resumes (SIGCONT): it must step down, and none
// of its writes may land.
func TestPausedOwnerStepsDown(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 3, timerScale: "0.01"})
	rdb := redistest.Client(t)
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")
	owner, epoch, ok := c.route(rdb, sid)
	require.True(t, ok)
	p := c.home(t, owner)
	p.signal(t, syscall.SIGSTOP)
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			p.signal(t, syscall.SIGCONT)
		}
	})
	// The edge retries while the session is taken over.
	a.must(t, "court:submit_evidence", evidence)
	o, e, _ := c.route(rdb, sid)
	require.NotEqual(t, owner, o)
	require.Equal(t, epoch+1, e)
	b.must(t, "court:submit_evidence", evidence)
	a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))

	p.signal(t, syscall.SIGCONT)
	resumed = true
	p.waitOutput(t, "stepped down from every session", 10*time.Second)
	a.must(t, "court:priming_complete", map[string]any{})
	b.must(t, "court:priming_complete", map[string]any{})
	a.waitState(t, "JOINT_READY", 10*time.Second, phase("JOINT_READY"))
	_, _, epochs := c.transitions(t, sid)
	c.requireHistory(t, sid)
	for i, ep := range epochs[2:] { // after serve and accept: none by the paused owner
		require.Greater(t, ep, epoch, "transition %d committed under a later epoch than the paused owner's", i+3)
	}
}

// TestEdgeKilled kills -9 the asia edge under a partner: the partner
// reconnects to the us edge, court:register gives it the current state, and
// the session goes on with its pushes reaching the new edge.
func TestEdgeKilled(t *testing.T) {
	c := startCluster(t, clusterOpts{timerScale: "0.01"})
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")
	c.edges["asia"].kill(t)

	b2 := connectAs(t, c, c.usURL, b.id)
	reg := b2.must(t, "court:register", map[string]string{"userId": b.id})
	require.Equal(t, "EVIDENCE", reg.State.Phase)
	require.Equal(t, sid, reg.State.Session.ID)
	a.must(t, "court:submit_evidence", evidence)
	b2.waitState(t, "A's evidence pushed to the new edge", 10*time.Second, func(s loadgen.State) bool {
		return s.Session != nil && s.Session.Evidence.Creator.Submitted
	})
	b2.must(t, "court:submit_evidence", evidence)
	a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))
	finish(t, a, b2, "PRIMING")
	c.requireHistory(t, sid)
}

// TestPostgresDown cuts Postgres away from the home (every connection
// closed, new ones refused, as during a restart): an action fails with a
// clear error and changes nothing; once Postgres is back the session is
// served again (reloaded from the store), the same action goes through and
// the session goes on, with its history whole.
func TestPostgresDown(t *testing.T) {
	c := startCluster(t, clusterOpts{timerScale: "0.01", pgProxy: true})
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")

	c.pg.down()
	start := time.Now()
	failed := a.emit(t, "court:submit_evidence", evidence)
	require.False(t, failed.OK)
	require.Contains(t, []string{"Service temporarily unavailable. Please try again.", "Court service unavailable. Please try again."}, failed.Error)
	require.Less(t, time.Since(start), 10*time.Second, "the error comes within a bounded time")

	c.pg.up()
	require.Eventually(t, func() bool {
		reg := b.emit(t, "court:register", map[string]string{"userId": b.id})
		return reg.OK && reg.State.Phase == "EVIDENCE"
	}, 20*time.Second, 200*time.Millisecond, "the session is served again once Postgres is back")
	reg := b.must(t, "court:register", map[string]string{"userId": b.id})
	require.False(t, reg.State.Session.Evidence.Creator.Submitted, "nothing half-written")
	a.must(t, "court:submit_evidence", evidence)
	b.must(t, "court:submit_evidence", evidence)
	a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))
	finish(t, a, b, "PRIMING")
	c.requireHistory(t, sid)
}
