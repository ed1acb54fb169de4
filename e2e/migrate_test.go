package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// operatorEnv issues an operator certificate from the cluster's CA and
// returns the environment that makes courtctl use it.
func (c *cluster) operatorEnv(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(c.pkiDir, "op-"+t.Name()[strings.LastIndex(t.Name(), "/")+1:])
	_, errOut, code := c.ctl(t, nil, "cert", "create", "--ca-dir", filepath.Join(c.pkiDir, "ca"), "--operator", "--name", "alice", "--out", dir)
	require.Zero(t, code, errOut)
	return []string{"COURTCTL_TLS_DIR=" + dir}
}

// nodeScenario is a JS scenario of e2e/client that talks with the test: it
// prints lines the test reads and reads lines the test writes.
type nodeScenario struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	done   chan error
	output *syncBuffer
}

// startScenario runs node script with env; it is killed after timeout.
func startScenario(t *testing.T, script string, env []string, timeout time.Duration) *nodeScenario {
	t.Helper()
	clientDir, err := filepath.Abs("client")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(clientDir, "node_modules", "socket.io-client"))
	require.NoError(t, err, "e2e/client/node_modules missing: run `make e2e-deps` (npm ci in e2e/client)")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	s := &nodeScenario{lines: make(chan string, 64), done: make(chan error, 1), output: &syncBuffer{}}
	s.cmd = exec.CommandContext(ctx, "node", script)
	s.cmd.Dir = clientDir
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.output
	s.stdin, err = s.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			_, _ = s.output.Write(append(sc.Bytes(), '\n'))
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("--- output of node %s ---\n%s", script, s.output.String())
		}
	})
	return s
}

// expect waits up to timeout for a line starting with prefix and returns
// the rest of it.
func (s *nodeScenario) expect(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("the scenario ended before %q: %v", prefix, <-s.done)
			}
			if rest, found := strings.CutPrefix(l, prefix); found {
				return strings.TrimSpace(rest)
			}
		case <-deadline:
			t.Fatalf("no %q from the scenario within %v", prefix, timeout)
		}
	}
}

func (s *nodeScenario) send(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(s.stdin, line+"\n")
	require.NoError(t, err)
}

// migrateResult is what migrate.mjs reports.
type migrateResult struct {
	Session                              string
	Rounds, Requests, Declines, Expiries int
	A, B                                 partnerView
	AckMs                                struct{ N, P50, P99, Max int }
}

type partnerView struct {
	Versions []uint64
	Last     struct {
		Phase   string
		Version uint64
		CaseID  *string
	}
}

// flip moves session sid live to the other home with courtctl migrate
// session --wait, and requires that the other home now holds it at the next
// epoch. It returns the new owner and how long the command took; ok is
// false when the move was overtaken by a failover (the target's lease
// lapsed on a starved machine, so the region took the session over), which
// courtctl reports as a failure.
func (c *cluster) flip(t *testing.T, rdb rueidis.Client, op []string, sid string) (to string, took time.Duration, ok bool) {
	t.Helper()
	from, epoch := routeNow(t, rdb, c.redisPrefix, sid)
	to = c.homeIDs[0]
	if from == to {
		to = c.homeIDs[1]
	}
	start := time.Now()
	out, errOut, code := c.ctl(t, op, "migrate", "session", sid, "--to", to, "--wait", "-o", "json")
	took = time.Since(start)
	if code == 1 && strings.Contains(errOut, "was taken over by") {
		t.Logf("migration to %s overtaken by a failover: %s", to, errOut)
		return to, took, false
	}
	require.Zero(t, code, "courtctl migrate session %s --to %s: %s", sid, to, errOut)
	var moved struct {
		To       string `json:"to"`
		Verified bool   `json:"verified"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &moved), out)
	require.True(t, moved.Verified)
	owner, newEpoch := routeNow(t, rdb, c.redisPrefix, sid)
	require.Equal(t, to, owner)
	require.Equal(t, epoch+1, newEpoch, "taken at the next epoch")
	return to, took, true
}

// routeNow reads session sid's route in Redis and returns its owner and
// epoch; a failed read or a missing route fails the test.
func routeNow(t *testing.T, rdb rueidis.Client, prefix, sid string) (owner string, epoch uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := rdb.Do(ctx, rdb.B().Hgetall().Key(prefix+"route:"+sid).Build()).AsStrMap()
	require.NoError(t, err, "read the route of %s", sid)
	require.NotEmpty(t, m, "session %s has a route", sid)
	epoch, err = strconv.ParseUint(m["epoch"], 10, 64)
	require.NoError(t, err, "route of %s: %v", sid, m)
	return m["owner_node"], epoch
}

// TestLiveMigrationRace: both partners (the real socket.io-client, on the us
// and asia edges) spam settlement requests and declines, some left to expire
// by their timer, and then drive their session to its verdict, while
// `courtctl migrate session` moves it back and forth between two home
// processes 20 times. Every action is acknowledged ok; the versions each
// partner is pushed strictly increase and both end on the same state;
// court_transitions holds every version once, in order, committed by both
// homes, with exactly one request, decline and timer expiry per one the
// partners saw acknowledged.
func TestLiveMigrationRace(t *testing.T) {
	t.Parallel()
	const flips, finishAfter = 20, 12
	c := startCluster(t, clusterOpts{homes: 2, timerScale: "0.01"}) // settlement 3 s, a phase 36 s
	rdb := redistest.Client(t)
	op := c.operatorEnv(t)
	sc := startScenario(t, "migrate.mjs", c.nodeEnv(), 4*time.Minute)
	sid := sc.expect(t, "SESSION", 30*time.Second)
	t.Logf("session %s in EVIDENCE", sid)

	var took []time.Duration
	overtaken := 0
	for i := 1; i <= flips; {
		to, d, ok := c.flip(t, rdb, op, sid)
		if !ok {
			overtaken++
			require.LessOrEqual(t, overtaken, 5, "failovers keep overtaking the migrations")
			continue
		}
		took = append(took, d)
		t.Logf("flip %d to %s: %v", i, to, d.Round(time.Millisecond))
		if i == finishAfter {
			sc.send(t, "finish")
		}
		i++
	}
	sc.expect(t, "VERDICT", time.Minute)
	sc.send(t, "done")
	var res migrateResult
	require.NoError(t, json.Unmarshal([]byte(sc.expect(t, "RESULT", time.Minute)), &res))
	require.NoError(t, <-sc.done, "the scenario failed")
	t.Logf("%d rounds: %d requests, %d declines, %d expiries; acks p50 %d ms, p99 %d ms, max %d ms of %d",
		res.Rounds, res.Requests, res.Declines, res.Expiries, res.AckMs.P50, res.AckMs.P99, res.AckMs.Max, res.AckMs.N)
	require.Equal(t, sid, res.Session)
	require.Positive(t, res.Expiries, "a settlement timer fired during the migrations")

	for name, v := range map[string]partnerView{"A": res.A, "B": res.B} {
		require.NotEmpty(t, v.Versions, name)
		for i := 1; i < len(v.Versions); i++ {
			require.Greater(t, v.Versions[i], v.Versions[i-1], "%s: pushed versions strictly increase: %v", name, v.Versions)
		}
		require.Equal(t, "CLOSED", v.Last.Phase, name)
	}
	require.Equal(t, res.A.Last, res.B.Last, "both partners end on the same state")

	events := c.requireHistory(t, sid) // every version once, in order
	counts := map[string]int{}
	for _, e := range events {
		counts[e]++
	}
	require.Equal(t, res.Requests, counts["request_settle"], "each acknowledged request committed once: %v", counts)
	require.Equal(t, res.Declines, counts["decline_settle"], "each acknowledged decline committed once: %v", counts)
	var evidenceTimeouts, nodes int
	require.NoError(t, c.pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM court_transitions WHERE session_id = $1 AND event = 'timeout' AND phase = 'EVIDENCE'),
		(SELECT count(DISTINCT node) FROM court_transitions WHERE session_id = $1)`, sid).Scan(&evidenceTimeouts, &nodes))
	require.Equal(t, res.Expiries, evidenceTimeouts, "each settlement timer fired once, none lost: %v", counts)
	require.Equal(t, 2, nodes, "both homes committed transitions of the session")
	closes, cases, verdicts := c.closes(t, sid)
	require.Equal(t, [3]int{1, 1, 1}, [3]int{closes, cases, verdicts})
	slowest := time.Duration(0)
	for _, d := range took {
		slowest = max(slowest, d)
	}
	t.Logf("%d migrations, the slowest courtctl migrate --wait took %v; transitions by event: %v", flips, slowest, counts)
}

// owners returns the owner node of each session.
func (c *cluster) owners(rdb rueidis.Client, sids []string) map[string]int {
	n := map[string]int{}
	for _, sid := range sids {
		owner, _, _ := c.route(rdb, sid)
		n[owner]++
	}
	return n
}

// TestDrainTo: `courtctl drain --to` with three home processes. Refused for
// an edge, for the node itself and for an unknown target, the node staying
// active. A home drained to one node hands all its sessions to that node
// and none to the region's other home, while every couple acts during the
// hand-over and is answered; a home drained to its region hands each
// session to its rendezvous node among the region's other active homes.
// Every couple then
// finishes its session with every transition committed once.
func TestDrainTo(t *testing.T) {
	t.Parallel()
	const couples = 12
	c := startCluster(t, clusterOpts{homes: 3})
	rdb := redistest.Client(t)
	op := c.operatorEnv(t)
	type couple struct{ a, b *user }
	cps := make([]couple, couples)
	sids := make([]string, couples)
	parallel(couples, func(i int) {
		cps[i] = couple{connect(t, c, c.usURL), connect(t, c, c.asiaURL)}
		sids[i] = driveTo(t, cps[i].a, cps[i].b, "EVIDENCE")
	})
	for _, from := range []string{"home-us-2", "home-us-3"} { // all on home-us-1 to begin with
		if c.owners(rdb, sids)[from] > 0 {
			_, errOut, code := c.ctl(t, op, "migrate", "node", from, "--to", "home-us-1", "--wait")
			require.Zero(t, code, errOut)
		}
	}
	require.Equal(t, map[string]int{"home-us-1": couples}, c.owners(rdb, sids))
	require.Eventually(t, func() bool { return c.status(t)["home-us-1"] == "active" }, 10*time.Second, 100*time.Millisecond)

	for _, bad := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"drain", "edge-us-1", "--to", "us"}, 2, "--to is for homes"},
		{[]string{"drain", "home-us-1", "--to", "home-us-1"}, 1, "already holds them"},
		{[]string{"drain", "home-us-1", "--to", "nowhere"}, 2, "neither an active home node nor a region"},
	} {
		_, errOut, code := c.ctl(t, op, bad.args...)
		require.Equal(t, bad.code, code, "%v: %s", bad.args, errOut)
		require.Contains(t, errOut, bad.want, bad.args)
	}
	require.Equal(t, "active", c.status(t)["home-us-1"], "refused drains leave the home active")
	require.Equal(t, "active", c.status(t)["edge-us-1"], "refused drains leave the edge active")

	// To one node, while every couple acts.
	_, errOut, code := c.ctl(t, op, "drain", "home-us-1", "--to", "home-us-3")
	require.Zero(t, code, errOut)
	lat := make([]time.Duration, couples)
	parallel(couples, func(i int) {
		start := time.Now()
		cps[i].a.must(t, "court:request_settle", map[string]any{})
		lat[i] = time.Since(start)
	})
	slices.Sort(lat)
	t.Logf("actions during the drain to home-us-3: p50 %v, max %v", lat[couples/2], lat[couples-1])
	require.Eventually(t, func() bool { return c.status(t)["home-us-1"] == "drained" }, 10*time.Second, 100*time.Millisecond)
	require.Equal(t, map[string]int{"home-us-3": couples}, c.owners(rdb, sids), "every session to home-us-3, none to home-us-2")

	_, errOut, code = c.ctl(t, op, "undrain", "home-us-1")
	require.Zero(t, code, errOut)
	require.Eventually(t, func() bool { return c.status(t)["home-us-1"] == "active" }, 10*time.Second, 100*time.Millisecond)

	// To the region: spread over its other active homes.
	out, errOut, code := c.ctl(t, op, "drain", "home-us-3", "--to", "us", "--wait", "-o", "json")
	require.Zero(t, code, errOut)
	var drained struct {
		State    string `json:"state"`
		Sessions int    `json:"sessions"`
		To       []struct {
			Node string `json:"node"`
		} `json:"to"`
		Seconds float64 `json:"seconds"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &drained), out)
	require.Equal(t, "drained", drained.State)
	require.Zero(t, drained.Sessions)
	require.Len(t, drained.To, 2, "the region's other active homes: %s", out)
	t.Logf("drain of home-us-3 to us: %.2fs", drained.Seconds)
	require.Eventually(t, func() bool {
		n := c.owners(rdb, sids)
		return n["home-us-1"]+n["home-us-2"] == couples
	}, 5*time.Second, 50*time.Millisecond)
	t.Logf("home-us-3's sessions went to %v", c.owners(rdb, sids))
	// Each to its rendezvous node of the two. How many each gets follows
	// from where the sessions were created, not from chance: a session's id
	// is drawn at creation to hash to its creating home among the region's
	// homes, and rendezvous keeps it there among any of them that hold
	// that home (12 created on home-us-2 all go back to it).
	for _, sid := range sids {
		owner, _, _ := c.route(rdb, sid)
		require.Equal(t, directory.Rendezvous(sid, []string{"home-us-1", "home-us-2"}), owner, "session %s", sid)
	}

	for _, cp := range cps { // one couple at a time: the drains are over, the finish needs no load
		cp.b.must(t, "court:decline_settle", map[string]any{})
		finish(t, cp.a, cp.b, "EVIDENCE")
	}
	for i, sid := range sids {
		events := c.requireHistory(t, sid)
		require.Equal(t, []string{"serve", "accept", "request_settle", "decline_settle"}, events[:4], "session %s", sid)
		cps[i].a.versionsInOrder(t, sid)
		cps[i].b.versionsInOrder(t, sid)
	}
}
