package store

import (
	"context"
	"fmt"
	"sync"

	"courtmesh/home/court"
)

// Memory is the embedded stand-in for Postgres that `courtd dev` uses when
// DATABASE_URL is unset: the same fencing rules (owner epoch and version,
// one live session per user) over maps, in one process, with nothing kept
// and no case, verdict or outbox rows. It is not a store for production.
type Memory struct {
	mu       sync.Mutex
	sessions map[string]*memRow // guarded by mu
	users    map[string]string  // user → live session; guarded by mu
}

type memRow struct {
	epoch uint64
	sess  *court.Session
	ended bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{sessions: make(map[string]*memRow), users: make(map[string]string)}
}

// Create stores a new session and claims its users.
func (m *Memory) Create(_ context.Context, c Create) error {
	if err := checkSession(c.Session); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	users := c.Session.Users()
	for _, u := range users {
		if _, busy := m.users[u]; busy {
			return ErrUserBusy
		}
	}
	for _, u := range users {
		m.users[u] = c.Session.ID
	}
	m.sessions[c.Session.ID] = &memRow{epoch: c.Epoch, sess: c.Session.Clone()}
	return nil
}

// Commit stores a transition if the row is still at (c.Epoch, c.Prev).
func (m *Memory) Commit(_ context.Context, c Commit) error {
	sess := c.Session
	if err := checkSession(sess); err != nil {
		return err
	}
	if sess.Version <= c.Prev {
		return fmt.Errorf("store: commit session %s: version %d not after %d", sess.ID, sess.Version, c.Prev)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	row, ok := m.sessions[sess.ID]
	if !ok || row.ended || row.epoch != c.Epoch || row.sess.Version != c.Prev {
		return ErrFenced
	}
	row.sess = sess.Clone()
	if !sess.Ended() {
		return nil
	}
	for _, u := range sess.Users() {
		if m.users[u] == sess.ID {
			delete(m.users, u)
		}
	}
	if sess.EndReason == court.EndRemoved || sess.CaseID != nil {
		row.ended = true
	} else {
		delete(m.sessions, sess.ID)
	}
	return nil
}

// FenceMany raises the owner epoch of each live session whose epoch is
// lower, and returns those sessions.
func (m *Memory) FenceMany(_ context.Context, want []SessionEpoch) (map[string]*court.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*court.Session, len(want))
	for _, w := range want {
		row, ok := m.sessions[w.ID]
		if !ok || row.ended || row.epoch >= w.Epoch {
			continue
		}
		row.epoch = w.Epoch
		out[w.ID] = row.sess.Clone()
	}
	return out, nil
}

// Fence is FenceMany of one session, telling why it was not fenced:
// ErrNotFound when the session is gone or ended, ErrFenced when its epoch is
// already epoch or newer.
func (m *Memory) Fence(ctx context.Context, sessionID string, epoch uint64) (*court.Session, error) {
	got, _ := m.FenceMany(ctx, []SessionEpoch{{ID: sessionID, Epoch: epoch}})
	if sess, ok := got[sessionID]; ok {
		return sess, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if row, ok := m.sessions[sessionID]; !ok || row.ended {
		return nil, ErrNotFound
	}
	return nil, ErrFenced
}

// ActiveSessions lists the live sessions (every region: the stand-in does
// not keep regions).
func (m *Memory) ActiveSessions(_ context.Context, _ string) ([]ActiveRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ActiveRef
	for id, row := range m.sessions {
		if row.ended {
			continue
		}
		out = append(out, ActiveRef{ID: id, Users: row.sess.Users(), OwnerEpoch: row.epoch})
	}
	return out, nil
}
