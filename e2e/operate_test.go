package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// ctl runs courtctl against c with env and returns its stdout, stderr and
// exit code.
func (c *cluster) ctl(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binaries(t, false), "courtctl"), args...)
	cmd.Env = append(append(cmd.Environ(), c.env...), env...)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		require.NoError(t, err)
	}
	return out.String(), errOut.String(), code
}

type statusJSON struct {
	Nodes []struct {
		ID       string `json:"id"`
		Role     string `json:"role"`
		Region   string `json:"region"`
		State    string `json:"state"`
		Version  string `json:"version"`
		Sockets  int    `json:"sockets"`
		Sessions int    `json:"sessions"`
		LinksUp  int    `json:"links_up"`
	} `json:"nodes"`
}

// status runs courtctl status -o json and returns the state of each node.
func (c *cluster) status(t *testing.T) map[string]string {
	t.Helper()
	out, errOut, code := c.ctl(t, nil, "status", "-o", "json")
	require.Zero(t, code, "courtctl status: %s", errOut)
	var st statusJSON
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	states := map[string]string{}
	for _, n := range st.Nodes {
		require.NotEmpty(t, n.Version, "%s announces its version", n.ID)
		states[n.ID] = n.State
	}
	return states
}

// TestOperate: edges started with no --home find both homes in the
// membership; courtctl status lists every node; a drain without an operator
// certificate, or with a node's, is refused and the home stays active;
// `courtctl drain home-us-1 --wait` hands the sessions of couples in the
// middle of their sessions to home-us-2, and every couple then finishes
// its session with every transition committed once; new sessions go to
// home-us-2 until `courtctl undrain` makes home-us-1 active again.
func TestOperate(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOpts{homes: 2, noSeeds: true})
	rdb := redistest.Client(t)
	require.Eventually(t, func() bool {
		st := c.status(t)
		return len(st) == 4 && st["home-us-1"] == "active" && st["home-us-2"] == "active" &&
			st["edge-us-1"] == "active" && st["edge-asia-1"] == "active"
	}, 10*time.Second, 200*time.Millisecond, "every node announces itself")

	// Refused: no certificate (usage, exit 2), a node's certificate (exit 1).
	_, errOut, code := c.ctl(t, []string{"COURTCTL_TLS_DIR="}, "drain", "home-us-1")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "courtctl cert create --operator")
	_, errOut, code = c.ctl(t, nil, "drain", "home-us-1", "--tls-dir", filepath.Join(c.pkiDir, "home-us-2"))
	require.Equal(t, 1, code, errOut)
	require.Equal(t, "active", c.status(t)["home-us-1"], "the home stays active")

	opDir := filepath.Join(c.pkiDir, "op-alice")
	_, errOut, code = c.ctl(t, nil, "cert", "create", "--ca-dir", filepath.Join(c.pkiDir, "ca"), "--operator", "--name", "alice", "--out", opDir)
	require.Zero(t, code, errOut)
	op := []string{"COURTCTL_TLS_DIR=" + opDir}

	type couple struct {
		a, b *user
		sid  string
	}
	var couples []couple
	for i := range 6 {
		url := c.usURL
		if i%2 == 1 {
			url = c.asiaURL
		}
		a, b := connect(t, c, url), connect(t, c, c.usURL)
		couples = append(couples, couple{a, b, driveTo(t, a, b, "EVIDENCE")})
	}
	onFirst := 0
	for _, cp := range couples {
		if owner, _, _ := c.route(rdb, cp.sid); owner == "home-us-1" {
			onFirst++
		}
	}
	t.Logf("home-us-1 owns %d of %d sessions before its drain", onFirst, len(couples))

	out, errOut, code := c.ctl(t, op, "drain", "home-us-1", "--wait", "-o", "json")
	require.Zero(t, code, "courtctl drain: %s", errOut)
	var drained struct {
		State    string  `json:"state"`
		Sessions int     `json:"sessions"`
		Seconds  float64 `json:"seconds"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &drained), out)
	require.Equal(t, "drained", drained.State)
	require.Zero(t, drained.Sessions)
	t.Logf("drain of home-us-1: %.2fs", drained.Seconds)
	require.Eventually(t, func() bool {
		for _, cp := range couples {
			if owner, _, _ := c.route(rdb, cp.sid); owner != "home-us-2" {
				return false
			}
		}
		return true
	}, 5*time.Second, 50*time.Millisecond, "home-us-2 owns every session")
	require.Eventually(t, func() bool { return c.status(t)["home-us-1"] == "drained" }, 5*time.Second, 100*time.Millisecond)

	for _, cp := range couples {
		finish(t, cp.a, cp.b, "EVIDENCE")
		c.requireHistory(t, cp.sid)
		cp.a.versionsInOrder(t, cp.sid)
		cp.b.versionsInOrder(t, cp.sid)
	}
	var (
		fresh   []string
		freshAB [][2]*user
	)
	for range 3 {
		a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
		sid := driveTo(t, a, b, "EVIDENCE")
		owner, _, _ := c.route(rdb, sid)
		require.Equal(t, "home-us-2", owner, "a drained home takes no new session")
		fresh, freshAB = append(fresh, sid), append(freshAB, [2]*user{a, b})
	}

	out, errOut, code = c.ctl(t, op, "sessions", "--node", "home-us-2", "-o", "json")
	require.Zero(t, code, errOut)
	var listed struct {
		Sessions []struct {
			ID    string `json:"id"`
			Owner string `json:"owner_node"`
		} `json:"sessions"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &listed), out)
	var ids []string
	for _, s := range listed.Sessions {
		require.Equal(t, "home-us-2", s.Owner)
		ids = append(ids, s.ID)
	}
	require.Subset(t, ids, fresh, "the new sessions are listed on home-us-2")
	out, errOut, code = c.ctl(t, op, "sessions", "show", fresh[0])
	require.Zero(t, code, errOut)
	require.Contains(t, out, "serve", "the first transition is listed")

	_, errOut, code = c.ctl(t, op, "undrain", "home-us-1")
	require.Zero(t, code, errOut)
	require.Eventually(t, func() bool { return c.status(t)["home-us-1"] == "active" }, 5*time.Second, 100*time.Millisecond)

	// A live migration to the other home, once home-us-1 has taken its share
	// back (as an operator waits for the undrain to settle in "courtctl
	// sessions"): the hand-back releases fresh[0] if it is home-us-1's, and
	// a migration meanwhile is refused (not held, or between owners). The
	// couple finishes there.
	share := directory.Rendezvous(fresh[0], []string{"home-us-1", "home-us-2"})
	require.Eventually(t, func() bool {
		m, err := rdb.Do(t.Context(), rdb.B().Hgetall().Key(c.redisPrefix+"route:"+fresh[0]).Build()).AsStrMap()
		return err == nil && m["owner_node"] == share && m["owner_inc"] != ""
	}, 10*time.Second, 50*time.Millisecond, "fresh[0] settles on %s, its share", share)
	from, epoch, _ := c.route(rdb, fresh[0])
	to := "home-us-1"
	if from == to {
		to = "home-us-2"
	}
	out, errOut, code = c.ctl(t, op, "migrate", "session", fresh[0], "--to", to, "--wait", "-o", "json")
	require.Zero(t, code, "courtctl migrate: %s", errOut)
	var moved struct {
		To       string   `json:"to"`
		Moved    []string `json:"moved"`
		Verified bool     `json:"verified"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &moved), out)
	require.Equal(t, to, moved.To)
	require.True(t, moved.Verified)
	owner, newEpoch, _ := c.route(rdb, fresh[0])
	require.Equal(t, to, owner)
	require.Equal(t, epoch+1, newEpoch, "taken at the next epoch")
	finish(t, freshAB[0][0], freshAB[0][1], "EVIDENCE")
	c.requireHistory(t, fresh[0])
	freshAB[0][0].versionsInOrder(t, fresh[0])
	freshAB[0][1].versionsInOrder(t, fresh[0])
}
