package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/directory/redistest"
	"courtmesh/home"
	"courtmesh/token"
)

// handOverSessions is how many sessions the shut-down home holds at least.
const handOverSessions = 1000

// TestGracefulShutdownHandsOver sends SIGTERM to a home node (a separate
// process) that holds at least 1,000 sessions: it releases every session
// and leaves the region, so its peer owns all of them at the next epoch
// within a claim round or so, well before the lease TTL a crash would
// cost; the sessions go on at the peer.
func TestGracefulShutdownHandsOver(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2})
	rdb := redistest.Client(t)
	leaving, staying := c.homeIDs[0], c.homeIDs[1]
	held := c.serveUntilHeld(t, rdb, leaving, handOverSessions)
	epochs := make(map[string]uint64, len(held))
	for _, sid := range held {
		_, e, ok := c.route(rdb, sid)
		require.True(t, ok)
		epochs[sid] = e
	}

	p := c.home(t, leaving)
	begin := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	for !c.allOwnedBy(t, rdb, held, staying, epochs) {
		require.Less(t, time.Since(begin), 10*time.Second, "the peer owns every session")
		time.Sleep(5 * time.Millisecond) // polling other processes
	}
	took := time.Since(begin)
	t.Logf("SIGTERM to %s holding %d sessions: %s owns all of them %v later", leaving, len(held), staying, took.Round(time.Millisecond))
	require.Less(t, took, home.DefaultLeaseTTL, "handed over, not taken over after the lease TTL")
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the home did not exit after SIGTERM")
	}
	p.waitOutput(t, "handed every session to the region", time.Second)
	for _, line := range strings.Split(p.out.String()+c.home(t, staying).out.String(), "\n") {
		if strings.Contains(line, "handed every session") || strings.Contains(line, "took over sessions") {
			t.Log(line)
		}
	}

	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")
	owner, _, ok := c.route(rdb, sid)
	require.True(t, ok)
	require.Equal(t, staying, owner, "new sessions go to the home left")
}

// serveUntilHeld creates sessions through the us edge's REST route, in
// batches, until node holds at least n of them, and returns those.
func (c *cluster) serveUntilHeld(t *testing.T, rdb rueidis.Client, node string, n int) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for batch := 0; batch < 10; batch++ {
		var g errgroup.Group
		g.SetLimit(16)
		for i := range n / 2 {
			g.Go(func() error { return c.restServe(client, fmt.Sprintf("%d-%d", batch, i)) })
		}
		require.NoError(t, g.Wait())
		held, err := rdb.Do(context.Background(), rdb.B().Smembers().Key(c.redisPrefix+"owned:"+node).Build()).AsStrSlice()
		require.NoError(t, err)
		if len(held) >= n {
			return held
		}
	}
	t.Fatalf("%s never held %d sessions", node, n)
	return nil
}

// restServe serves a new partner from a new user through POST
// /api/court/serve.
func (c *cluster) restServe(client *http.Client, tag string) error {
	creator := newUUID()
	tok, err := token.Mint(secretOf(c), creator, time.Hour)
	if err != nil {
		return err
	}
	body := fmt.Sprintf(`{"partnerId":%q,"coupleId":null,"judgeType":"swift"}`, "p-"+tag+"-"+creator)
	req, err := http.NewRequest(http.MethodPost, c.usURL+"/api/court/serve", bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("serve %s: status %d", tag, resp.StatusCode)
	}
	return nil
}

// allOwnedBy reports whether node owns every session of sids at the epoch
// after the one in epochs.
func (c *cluster) allOwnedBy(t *testing.T, rdb rueidis.Client, sids []string, node string, epochs map[string]uint64) bool {
	t.Helper()
	owned, err := rdb.Do(context.Background(), rdb.B().Scard().Key(c.redisPrefix+"owned:"+node).Build()).AsInt64()
	require.NoError(t, err)
	if owned < int64(len(sids)) {
		return false
	}
	for _, sid := range sids {
		o, e, ok := c.route(rdb, sid)
		if !ok || o != node || e != epochs[sid]+1 {
			return false
		}
	}
	return true
}
