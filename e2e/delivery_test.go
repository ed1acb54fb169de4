package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
)

// The delivery promise (docs/ownership.md, "Delivery"): every court:state a
// commit produces reaches every connected socket of both partners, or that
// socket is resynced, with no client re-registering; each socket sees a
// session's versions strictly increasing (none twice, none older after a
// newer one).

// lastVersion is the version of the session's last committed transition.
func (c *cluster) lastVersion(t *testing.T, sid string) uint64 {
	t.Helper()
	var v int64
	require.NoError(t, c.pool.QueryRow(context.Background(),
		`SELECT coalesce(max(version), 0) FROM court_transitions WHERE session_id = $1`, sid).Scan(&v))
	return uint64(v)
}

// lastOf returns the version of the last court:state of session sid that u
// got, requiring that the versions it got strictly increase.
func (u *user) lastOf(t *testing.T, sid string) uint64 {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	var last uint64
	for _, s := range u.states {
		if s.Session == nil || s.Session.ID != sid {
			continue
		}
		require.Greater(t, s.Session.Version, last, "%s: versions of %s not strictly increasing", u.id, sid)
		last = s.Session.Version
	}
	return last
}

// converge waits until every socket's last state of sid is the session's
// last committed version, and returns it.
func (c *cluster) converge(t *testing.T, sid string, timeout time.Duration, socks ...*user) uint64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		want := c.lastVersion(t, sid)
		var got []uint64
		ok := true
		for _, u := range socks {
			v := u.lastOf(t, sid)
			got = append(got, v)
			ok = ok && v == want
		}
		if ok {
			return want
		}
		if time.Now().After(deadline) {
			for _, u := range socks {
				u.mu.Lock()
				t.Logf("%s: %d states", u.id, len(u.states))
				for _, s := range u.states {
					if s.Session != nil {
						t.Logf("  %s v%d", s.Phase, s.Session.Version)
					} else {
						t.Logf("  %s", s.Phase)
					}
				}
				u.mu.Unlock()
			}
			t.Fatalf("sockets did not converge on version %d of %s within %v: they have %v", want, sid, timeout, got)
		}
		time.Sleep(50 * time.Millisecond) // polling processes and Postgres
	}
}

// TestDeliveryAcrossMeshCut: the asia edge's mesh link to the home is cut
// for 2 s (a UDP relay drops every datagram) while both partners act from
// their us sockets. Their asia sockets missed those pushes (queued on the
// dying link, or refused while it was down); once the link is back, the
// home retries and the edge resyncs, and every socket ends on the last
// committed version.
func TestDeliveryAcrossMeshCut(t *testing.T) {
	link := []string{"--mesh-link-timeout", "900ms"}
	c := startCluster(t, clusterOpts{relayAsia: true, homeArgs: link, edgeArgs: link})
	a1 := connect(t, c, c.usURL)
	b1 := connect(t, c, c.usURL)
	a2, b2 := connectAs(t, c, c.asiaURL, a1.id), connectAs(t, c, c.asiaURL, b1.id)
	sid := driveTo(t, a1, b1, "EVIDENCE")
	c.converge(t, sid, 10*time.Second, a1, a2, b1, b2)

	cut := time.Now()
	c.relays[0].cut(2 * time.Second)
	time.Sleep(1200 * time.Millisecond) // the link is reported down after 900 ms
	together(func() { a1.must(t, "court:submit_evidence", evidence) },
		func() { b1.must(t, "court:submit_evidence", evidence) })
	require.Less(t, time.Since(cut), 2*time.Second, "both acted during the cut")
	a1.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))

	v := c.converge(t, sid, 15*time.Second, a1, a2, b1, b2)
	t.Logf("every socket on version %d, %v after the cut began", v, time.Since(cut).Round(10*time.Millisecond))
}

// TestDeliveryAfterHomeDiesBeforePush: the home that owns the session exits
// right after committing the partner's accept and before pushing it (the
// test-only failpoint COURT_FAILPOINT_EXIT_AFTER_COMMIT). The other home
// takes the session over, the edges resync their sockets after the link
// went down, and both partners end on the accepted state without acting.
func TestDeliveryAfterHomeDiesBeforePush(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2, homeEnv: []string{"COURT_FAILPOINT_EXIT_AFTER_COMMIT=accept"}})
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	served := a.must(t, "court:serve", map[string]any{"partnerId": b.id, "coupleId": nil, "judgeType": "swift"})
	sid := served.State.Session.ID
	b.waitState(t, "PENDING", 10*time.Second, phase("PENDING"))

	acted := time.Now()
	b.emit(t, "court:accept", map[string]any{}) // its ack may be an error: the home died
	dead := -1
	require.Eventually(t, func() bool {
		for i, h := range c.homes {
			select {
			case <-h.done:
				dead = i
				return true
			default:
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the owner exits at the failpoint")
	require.Contains(t, c.homes[dead].out.String(), "failpoint COURT_FAILPOINT_EXIT_AFTER_COMMIT")

	v := c.converge(t, sid, 20*time.Second, a, b)
	require.Equal(t, uint64(2), v, "serve, accept")
	t.Logf("both partners on version %d, %v after the accept", v, time.Since(acted).Round(10*time.Millisecond))
	a.waitState(t, "EVIDENCE", time.Second, phase("EVIDENCE"))
	b.waitState(t, "EVIDENCE", time.Second, phase("EVIDENCE"))
}

// presenceOf returns the edges Redis records as holding sockets of user.
func (c *cluster) presenceOf(t *testing.T, user string) map[string]string {
	t.Helper()
	rdb := redistest.Client(t)
	m, err := rdb.Do(context.Background(), rdb.B().Hgetall().Key(c.redisPrefix+"presence:"+user).Build()).AsStrMap()
	require.NoError(t, err)
	return m
}

// requirePresenceBack requires that Redis records each user's edge again
// within 5 s of a wipe, with no client doing anything.
func (c *cluster) requirePresenceBack(t *testing.T, wiped time.Time, users map[*user]string) {
	t.Helper()
	for u, edge := range users {
		require.Eventually(t, func() bool { _, ok := c.presenceOf(t, u.id)[edge]; return ok },
			5*time.Second, 50*time.Millisecond, fmt.Sprintf("presence of %s on %s restored", u.id, edge))
	}
	t.Logf("presence restored %v after the wipe", time.Since(wiped).Round(10*time.Millisecond))
}
