package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// Rolling deploy sizes (issue 8, Must show) and the bounds of the test.
const (
	rollingCouples = 200 // 400 sockets, each couple running whole sessions back to back
	// rollingTimerScale makes the CLOSED hold 0.6 s (the timer every
	// session fires) and PENDING 12 s, the shortest toss: far above a
	// reconnect, so no session is tossed by its clients' pause.
	rollingTimerScale = "0.02"
	rollingWindow     = "2s"              // each edge's drain window
	rollingDriverMax  = 150 * time.Second // the driver's own bound
	rollingNodeWait   = 20 * time.Second  // one node's exit, or its return to active
)

// rollingNode is one node the rolling deploy restarts.
type rollingNode struct {
	id, role string
	p        *proc
	url      string // an edge's base URL
}

// TestRollingDeploy restarts every node of a mesh, one at a time, while 200
// couples run whole court sessions back to back with the real
// socket.io-client: two homes (us) and two edges in each of us and asia,
// separate plain processes on the real Redis and Postgres, each region's
// edges behind a load balancer that skips an edge that is down or refuses
// (503). Each node gets SIGTERM (a drain), exits, starts again with the same
// identity and is active in the membership before the next; one edge is
// drained first by `courtctl drain --wait`, its sockets resyncing through
// the balancer on the region's other edge. Clients reconnect (each socket at
// least once) but no action fails except with the documented retryable
// errors; every session completes; the versions of a session each partner
// receives never go back and both close at the same version; and in
// court_transitions each session is one whole session, committed once:
// versions 1..14 with no gap, each action once, the judge once, and the
// CLOSED hold's timer once.
func TestRollingDeploy(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2, plain: true, noSeeds: true, timerScale: rollingTimerScale,
		edgeArgs: []string{"--drain-window", rollingWindow}})
	nodes := []rollingNode{{"edge-us-1", "edge", c.edges["us"], c.usURL}, {"edge-asia-1", "edge", c.edges["asia"], c.asiaURL}}
	for _, region := range []string{"us", "asia"} {
		id := "edge-" + region + "-2"
		p, url := c.addEdge(t, id, region, "--drain-window", rollingWindow)
		nodes = append(nodes, rollingNode{id, "edge", p, url})
	}
	for i, id := range c.homeIDs {
		nodes = append(nodes, rollingNode{id, "home", c.homes[i], ""})
	}
	lbs := map[string]*balancer{}
	for _, region := range []string{"us", "asia"} {
		var addrs []string
		for _, n := range nodes {
			if n.role == "edge" && strings.Contains(n.id, "-"+region+"-") {
				addrs = append(addrs, strings.TrimPrefix(n.url, "http://"))
			}
		}
		lbs[region] = newBalancer(t, addrs)
	}
	mem := c.membership(t)
	for _, n := range nodes {
		c.waitActive(t, mem, n, time.Time{})
	}
	opDir := filepath.Join(c.pkiDir, "op-rolling")
	c.plainCtl(t, "cert", "create", "--ca-dir", filepath.Join(c.pkiDir, "ca"), "--operator", "--name", "rolling", "--out", opDir)

	drv := startDriver(t, c, lbs["us"].url(), lbs["asia"].url())
	begin := time.Now()
	// The deploy: homes and edges interleaved, so that sessions move while
	// sockets do.
	order := []string{"home-us-1", "edge-us-1", "edge-asia-1", "home-us-2", "edge-us-2", "edge-asia-2"}
	for _, id := range order {
		n := nodes[slices.IndexFunc(nodes, func(n rollingNode) bool { return n.id == id })]
		before := drv.completed()
		held := c.memberOf(t, mem, id)
		stopped := time.Now()
		if id == "edge-asia-1" {
			out := c.plainCtl(t, "drain", id, "--window", rollingWindow, "--wait", "-o", "json", "--tls-dir", opDir)
			var res struct {
				State   string `json:"state"`
				Sockets int    `json:"sockets"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			require.Equal(t, "drained", res.State)
			require.Zero(t, res.Sockets, "courtctl drain --wait returns once the edge holds no socket")
		}
		require.NoError(t, n.p.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-n.p.done:
		case <-time.After(rollingNodeWait):
			t.Fatalf("%s did not exit within %v of SIGTERM", id, rollingNodeWait)
		}
		require.Zero(t, n.p.cmd.ProcessState.ExitCode(), "%s exits cleanly after its drain", id)
		exited := time.Since(stopped)
		n.p.restart(t)
		c.waitActive(t, mem, n, stopped)
		t.Logf("%s: %s (held %d sockets, %d sessions): exited %v after SIGTERM, active again %v after; %d sessions completed meanwhile",
			time.Now().Format("15:04:05.000"), id, held.Sockets, held.Sessions, exited.Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond), drv.completed()-before)
	}
	deploy := time.Since(begin)
	rep := drv.stop(t)
	t.Logf("rolling deploy of %d nodes under %d couples: %v; %d sessions completed; %+v; balancers skipped %d (us) and %d (asia) edges",
		len(order), rollingCouples, deploy.Round(time.Millisecond), rep.sessions(), rep.Counts, lbs["us"].skipped.Load(), lbs["asia"].skipped.Load())

	c.logFailedSessions(t, rep.Failures)
	require.Empty(t, rep.Failures, "no action failed but with a retryable error, every session completed")
	require.Len(t, rep.Couples, rollingCouples)
	require.GreaterOrEqual(t, rep.Counts["disconnects"], 2*rollingCouples, "every socket was moved at least once")
	for i, cp := range rep.Couples {
		require.NotEmpty(t, cp.Sessions, "couple %d completed sessions through the deploy", i)
	}
	c.requireWholeSessions(t, rep)
}

// addEdge starts one more edge (a plain binary), id in region, finding the
// homes in the membership, and returns it with its base URL once ready.
func (c *cluster) addEdge(t *testing.T, id, region string, args ...string) (*proc, string) {
	t.Helper()
	bin := binaries(t, true)
	c.plainCtl(t, "cert", "create", "--ca-dir", filepath.Join(c.pkiDir, "ca"),
		"--node", id, "--role", "edge", "--region", region, "--out", filepath.Join(c.pkiDir, id))
	addr, ops := freePort(t, "tcp"), freePort(t, "tcp")
	p := start(t, id, filepath.Join(bin, "courtd"), c.env, append([]string{"edge", "--node-id", id, "--region", region,
		"--tls-dir", filepath.Join(c.pkiDir, id), "--addr", addr, "--ops-addr", ops}, args...)...)
	waitReady(t, "http://"+addr, 20*time.Second)
	return p, "http://" + addr
}

// plainCtl runs the plain courtctl with the cluster's environment and
// requires it to succeed; it returns its output.
func (c *cluster) plainCtl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runWithEnv(c.env, filepath.Join(binaries(t, true), "courtctl"), args...)
	require.NoError(t, err, "courtctl %s: %s", strings.Join(args, " "), out)
	return string(out)
}

func (c *cluster) membership(t *testing.T) directory.Membership {
	t.Helper()
	d, err := directory.NewRedis(directory.RedisConfig{Client: redistest.Client(t), Prefix: c.redisPrefix})
	require.NoError(t, err)
	return d
}

// memberOf returns node id's announcement (zero when it has none).
func (c *cluster) memberOf(t *testing.T, mem directory.Membership, id string) directory.Member {
	t.Helper()
	ms, err := mem.Members(context.Background())
	require.NoError(t, err)
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	return directory.Member{}
}

// waitActive waits until n, started after since, is active in the
// membership and in service: an edge ready behind its own URL, a home
// linked from every edge.
func (c *cluster) waitActive(t *testing.T, mem directory.Membership, n rollingNode, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(rollingNodeWait)
	for {
		ms, err := mem.Members(context.Background())
		require.NoError(t, err)
		if activeIn(ms, n, since) {
			break
		}
		require.True(t, time.Now().Before(deadline), "%s active again within %v: %+v", n.id, rollingNodeWait, ms)
		time.Sleep(100 * time.Millisecond) // polling other processes' announcements
	}
	if n.role == "edge" {
		waitReady(t, n.url, rollingNodeWait)
	}
}

// activeIn reports whether n announces itself active, started after since,
// and, for a home, whether every edge has a link up to each home.
func activeIn(ms []directory.Member, n rollingNode, since time.Time) bool {
	self := slices.IndexFunc(ms, func(m directory.Member) bool { return m.ID == n.id })
	if self < 0 || ms[self].State != "active" || !ms[self].Started.After(since) {
		return false
	}
	if n.role == "home" {
		homes := 0
		for _, m := range ms {
			if m.Role == "home" && m.State == "active" {
				homes++
			}
		}
		for _, m := range ms {
			if m.Role == "edge" && m.Links < homes {
				return false
			}
		}
	}
	return true
}

// driver is the Node process of e2e/client/rolling.mjs.
type driver struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	stdin  interface{ Close() error }
	report string // the file of its report
	done   chan struct{}
}

// startDriver runs the couples through the balancers at usURL and asiaURL
// and returns once every socket is registered.
func startDriver(t *testing.T, c *cluster, usURL, asiaURL string) *driver {
	t.Helper()
	clientDir, err := filepath.Abs("client")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(clientDir, "node_modules", "socket.io-client")); err != nil {
		t.Fatal("e2e/client/node_modules missing: run `make e2e-deps` (npm ci in e2e/client)")
	}
	d := &driver{out: &syncBuffer{}, done: make(chan struct{}), report: filepath.Join(t.TempDir(), "report.json")}
	d.cmd = exec.Command("node", "rolling.mjs")
	d.cmd.Dir = clientDir
	d.cmd.Env = append(append(os.Environ(), c.env...), "US_URL="+usURL, "ASIA_URL="+asiaURL,
		fmt.Sprintf("COUPLES=%d", rollingCouples), fmt.Sprintf("MAX_MS=%d", rollingDriverMax.Milliseconds()), "REPORT="+d.report)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.stdin, err = d.cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, d.cmd.Start())
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.out.String(), "ready\n") {
		select {
		case <-d.done:
			t.Fatalf("the driver exited before its couples were connected:\n%s", d.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "the driver's couples connected within 30 s:\n%s", d.out.String())
	}
	return d
}

// completed counts the sessions the couples have completed so far (the
// driver prints a line for each).
func (d *driver) completed() int { return strings.Count(d.out.String(), "\nsession ") }

// rollingReport is the driver's report: the sessions each couple's slot
// completed, with the version each partner saw the session close at.
type rollingReport struct {
	Couples []struct {
		Sessions []struct {
			ID     string         `json:"id"`
			Closed map[string]int `json:"closed"`
		} `json:"sessions"`
	} `json:"couples"`
	Counts   map[string]int `json:"counts"`
	Failures []string       `json:"failures"`
}

func (r *rollingReport) sessions() int {
	n := 0
	for _, c := range r.Couples {
		n += len(c.Sessions)
	}
	return n
}

// stop tells the couples to finish the session they are in and returns the
// driver's report.
func (d *driver) stop(t *testing.T) *rollingReport {
	t.Helper()
	require.NoError(t, d.stdin.Close())
	select {
	case <-d.done:
	case <-time.After(rollingDriverMax):
		t.Fatalf("the driver did not finish:\n%s", d.out.String())
	}
	raw, err := os.ReadFile(d.report)
	require.NoError(t, err, "the driver's report:\n%s", d.out.String())
	var rep rollingReport
	require.NoError(t, json.Unmarshal(raw, &rep))
	if len(rep.Failures) > 0 {
		t.Logf("driver output:\n%s", d.out.String())
	}
	return &rep
}

// wholeSession is the events of one session run to its end by the driver.
var wholeSession = []string{"serve", "accept", "submit_evidence", "submit_evidence", "judge_deliberate",
	"priming_complete", "priming_complete", "joint_ready", "joint_ready", "resolution_pick", "resolution_pick",
	"accept_verdict", "accept_verdict", "timeout"}

// requireWholeSessions checks court_transitions against the driver's
// report: the sessions are exactly those the couples ran, each one whole
// session committed once, and both partners closed at the version of the
// close.
func (c *cluster) requireWholeSessions(t *testing.T, rep *rollingReport) {
	t.Helper()
	ctx := context.Background()
	var stored []string
	rows, err := c.pool.Query(ctx, `SELECT DISTINCT session_id::text FROM court_transitions`)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		stored = append(stored, id)
	}
	require.NoError(t, rows.Err())
	var ran []string
	for _, cp := range rep.Couples {
		for _, s := range cp.Sessions {
			ran = append(ran, s.ID)
			events := c.requireHistory(t, s.ID)
			if !slices.Equal(wholeSession, events) {
				c.logFailedSessions(t, []string{s.ID})
			}
			require.Equal(t, wholeSession, events, "session %s", s.ID)
			closeVersion := len(wholeSession) - 1
			for who, v := range s.Closed {
				require.Equal(t, closeVersion, v, "%s of session %s closed at the close's version", who, s.ID)
			}
		}
	}
	require.ElementsMatch(t, ran, stored, "every stored session is one the couples ran, once")
}

var sessionID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// logFailedSessions logs the committed transitions of each session a
// failure names.
func (c *cluster) logFailedSessions(t *testing.T, failures []string) {
	t.Helper()
	for _, f := range failures {
		for _, sid := range sessionID.FindAllString(f, -1) {
			rows, err := c.pool.Query(context.Background(),
				`SELECT version, event, node, owner_epoch, at FROM court_transitions WHERE session_id = $1 ORDER BY version`, sid)
			require.NoError(t, err)
			var lines []string
			for rows.Next() {
				var v, e int64
				var ev, node string
				var at time.Time
				require.NoError(t, rows.Scan(&v, &ev, &node, &e, &at))
				lines = append(lines, fmt.Sprintf("%d %s %s@%d %s", v, ev, node, e, at.Format("15:04:05.000")))
			}
			rows.Close()
			t.Logf("session %s: %s", sid, strings.Join(lines, "; "))
		}
	}
}
