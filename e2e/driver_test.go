package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/loadgen"
	"courtmesh/token"
)

// user is one Go Socket.IO client (package loadgen speaks the protocol as
// socket.io-client does) that records every court:state pushed to it.
type user struct {
	id     string
	c      *loadgen.Client
	mu     sync.Mutex
	states []loadgen.State // guarded by mu
	wake   chan struct{}
}

func secretOf(c *cluster) []byte {
	for _, kv := range c.env {
		if v, ok := strings.CutPrefix(kv, "SUPABASE_JWT_SECRET="); ok {
			return []byte(v)
		}
	}
	panic("no secret in the cluster env")
}

// connect dials url as a new user and registers it.
func connect(t *testing.T, c *cluster, url string) *user {
	t.Helper()
	return connectAs(t, c, url, newUUID())
}

// connectAs dials url as user id (a new socket of that user) and registers it.
func connectAs(t *testing.T, c *cluster, url, id string) *user {
	t.Helper()
	u := &user{id: id, wake: make(chan struct{}, 1)}
	tok, err := token.Mint(secretOf(c), u.id, time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u.c, err = loadgen.Dial(ctx, url, tok)
	require.NoError(t, err)
	t.Cleanup(func() { u.c.Close() })
	go u.record()
	u.must(t, "court:register", map[string]string{"userId": u.id})
	return u
}

func (u *user) record() {
	for {
		r, ok := u.c.Next()
		if !ok {
			return
		}
		u.mu.Lock()
		u.states = append(u.states, r.State)
		u.mu.Unlock()
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

type ackMsg struct {
	OK    bool           `json:"ok"`
	Error string         `json:"error"`
	State *loadgen.State `json:"state"`
}

// emit sends event and returns its ack. The wait is longer than the client's
// own 2.5 s so that a takeover in progress shows as a slow ack, not a
// failure of the test harness.
func (u *user) emit(t *testing.T, event string, payload any) ackMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	raw, err := u.c.Emit(ctx, event, payload)
	require.NoError(t, err, "%s", event)
	var a ackMsg
	require.NoError(t, json.Unmarshal(raw, &a), "%s", raw)
	return a
}

// must emits event and requires an ok ack.
func (u *user) must(t *testing.T, event string, payload any) ackMsg {
	t.Helper()
	a := u.emit(t, event, payload)
	require.True(t, a.OK, "%s: %s", event, a.Error)
	return a
}

// waitState waits for a recorded state matching pred.
func (u *user) waitState(t *testing.T, what string, timeout time.Duration, pred func(loadgen.State) bool) loadgen.State {
	t.Helper()
	deadline := time.After(timeout)
	for {
		u.mu.Lock()
		for _, s := range u.states {
			if pred(s) {
				u.mu.Unlock()
				return s
			}
		}
		seen := len(u.states)
		u.mu.Unlock()
		select {
		case <-u.wake:
		case <-deadline:
			t.Fatalf("%s: no court:state %s within %v (%d states)", u.id, what, timeout, seen)
		}
	}
}

// waitEnded waits for the IDLE state that follows a state of session sid.
func (u *user) waitEnded(t *testing.T, sid string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		u.mu.Lock()
		seen, ended := false, false
		for _, s := range u.states {
			if s.Session != nil && s.Session.ID == sid {
				seen = true
			} else if seen && s.Phase == "IDLE" {
				ended = true
			}
		}
		u.mu.Unlock()
		if ended {
			return
		}
		select {
		case <-u.wake:
		case <-deadline:
			t.Fatalf("%s: session %s did not end within %v", u.id, sid, timeout)
		}
	}
}

// versionsInOrder requires that the user never saw a session's state go
// back, and returns how many states of session sid it saw with each version.
func (u *user) versionsInOrder(t *testing.T, sid string) map[uint64]int {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	seen := map[uint64]int{}
	var last uint64
	for _, s := range u.states {
		if s.Session == nil || s.Session.ID != sid {
			continue
		}
		require.GreaterOrEqual(t, s.Session.Version, last, "%s: state of %s went back", u.id, sid)
		last = s.Session.Version
		seen[s.Session.Version]++
	}
	return seen
}

func phase(p string) func(loadgen.State) bool {
	return func(s loadgen.State) bool { return s.Phase == p }
}

var evidence = map[string]string{"evidence": "The dishes piled up.", "feelings": "Unheard.", "needs": "Shared chores."}

// driveTo runs a couple's session from nothing to the given phase and
// returns the session id.
func driveTo(t *testing.T, a, b *user, target string) string {
	t.Helper()
	served := a.must(t, "court:serve", map[string]any{"partnerId": b.id, "coupleId": nil, "judgeType": "swift"})
	sid := served.State.Session.ID
	steps := []struct {
		phase string
		do    func()
	}{
		{"PENDING", func() {}},
		{"EVIDENCE", func() { b.must(t, "court:accept", map[string]any{}) }},
		{"PRIMING", func() {
			a.must(t, "court:submit_evidence", evidence)
			b.must(t, "court:submit_evidence", evidence)
			a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))
		}},
		{"JOINT_READY", func() {
			a.must(t, "court:priming_complete", map[string]any{})
			b.must(t, "court:priming_complete", map[string]any{})
		}},
		{"RESOLUTION", func() {
			a.must(t, "court:joint_ready", map[string]any{})
			b.must(t, "court:joint_ready", map[string]any{})
		}},
		{"VERDICT", func() {
			a.must(t, "court:resolution_pick", map[string]any{"resolutionId": "resolution_1"})
			b.must(t, "court:resolution_pick", map[string]any{"resolutionId": "resolution_1"})
		}},
	}
	for _, s := range steps {
		s.do()
		if s.phase == target {
			a.waitState(t, target, 10*time.Second, phase(target))
			return sid
		}
	}
	t.Fatalf("unknown phase %s", target)
	return ""
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
