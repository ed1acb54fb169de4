package home

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"courtmesh/home/court"
)

// sessions is the session runtime: the live sessions this node holds, the
// lock of each, their commits, timers, judge calls and pushes. It acts only
// while ownership (own) says the node lease is valid, and only for the
// sessions ownership installed or that it created itself.
type sessions struct {
	cfg       Config
	durations court.Durations
	log       *slog.Logger
	metrics   *metrics
	own       leaseHolder
	reg       *registry
	timers    *timerQueue
	answers   *answers
	retries   *retries
	// gens counts the links of each edge (statedocs.go).
	gens edgeGens

	// base is the context of spawned work (judge calls); cancelled by stop.
	base       context.Context
	cancelBase context.CancelFunc
	spawnMu    sync.Mutex
	spawned    sync.WaitGroup // Add only under spawnMu while !closing
	closing    atomic.Bool    // set under spawnMu
}

func newSessions(cfg Config, log *slog.Logger, m *metrics, own leaseHolder) *sessions {
	rt := &sessions{
		cfg:       cfg,
		durations: court.DurationsFromScale(cfg.TimerScale),
		log:       log,
		metrics:   m,
		own:       own,
		reg:       newRegistry(),
		timers:    newTimerQueue(),
		answers:   newAnswers(cfg.Now),
		retries:   newRetries(cfg.Mesh),
	}
	rt.base, rt.cancelBase = context.WithCancel(context.Background())
	return rt
}

// entry is one held session.
type entry struct {
	// mu is the session lock: it serialises the transitions of the
	// session. Functions that need it held say so by their Locked suffix.
	mu sync.Mutex
	// sess is the committed session; guarded by mu. It is replaced, never
	// changed in place, so a pointer read under mu may be used after.
	sess *court.Session
	// gone is set, with mu held, when the session has been removed or
	// this node stopped owning it.
	gone bool
	// epoch is the owner epoch this node holds the session under; every
	// write to the store carries it. It, sessionID and users never change:
	// a session taken over again gets a new entry.
	epoch     uint64
	sessionID string
	users     [2]string
	// docs is what the edges have of its court:state documents
	// (statedocs.go); guarded by mu.
	docs docs
	// located tells, per user (as in users), whether a publication found
	// the user's presence since the entry began or the user last read its
	// state; until one does, its states are fanned out (publish.go).
	// Guarded by mu.
	located [2]bool
}

func newEntry(sess *court.Session, epoch uint64) *entry {
	sess.KeepEncodings()
	return &entry{sess: sess, epoch: epoch, sessionID: sess.ID, users: sess.Users()}
}

// ref names e for ownership; no lock needed.
func (e *entry) ref() heldRef {
	return heldRef{ID: e.sessionID, Users: e.users, Epoch: e.epoch}
}

// install implements heldSessions.
func (rt *sessions) install(sess *court.Session, epoch uint64) bool {
	if rt.closing.Load() {
		return false
	}
	e := newEntry(sess, epoch)
	if !rt.reg.add(e) {
		rt.log.Warn("taken-over session collides with a held one", "session", sess.ID)
		return false
	}
	rt.metrics.sessions.Inc()
	rt.timers.arm(sess)
	for _, call := range sess.PendingJudgeCalls() {
		rt.callJudge(sess.ID, call)
	}
	return true
}

// drop implements heldSessions.
func (rt *sessions) drop(id string) (heldRef, bool) {
	e := rt.reg.session(id)
	if e == nil {
		return heldRef{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return heldRef{}, false
	}
	rt.dropLocked(e)
	return e.ref(), true
}

// held implements heldSessions. It takes no session lock: a session being
// dropped meanwhile may be listed.
func (rt *sessions) held() []heldRef {
	all := rt.reg.all()
	out := make([]heldRef, 0, len(all))
	for _, e := range all {
		out = append(out, e.ref())
	}
	return out
}

// whileHeld implements heldSessions.
func (rt *sessions) whileHeld(id string, f func(heldRef)) bool {
	e := rt.reg.session(id)
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return false
	}
	f(e.ref())
	return true
}

// dropLocked forgets e: no timers, no index entries, no further commits.
func (rt *sessions) dropLocked(e *entry) {
	e.gone = true
	rt.reg.remove(e)
	rt.timers.disarm(e.sessionID)
	rt.metrics.sessions.Dec()
}

// spawn runs f in a goroutine that stop waits for. After stop it runs
// nothing.
func (rt *sessions) spawn(f func(ctx context.Context)) {
	rt.spawnMu.Lock()
	defer rt.spawnMu.Unlock()
	if rt.closing.Load() {
		return
	}
	rt.spawned.Add(1)
	go func() {
		defer rt.spawned.Done()
		f(rt.base)
	}()
}

// stop refuses new sessions and spawned work, cancels what runs and waits
// for it.
func (rt *sessions) stop() {
	rt.spawnMu.Lock()
	rt.closing.Store(true)
	rt.cancelBase()
	rt.spawnMu.Unlock()
	rt.spawned.Wait()
}

// registry indexes the held sessions by id and by user. It is safe for
// concurrent use; its mutex is taken after a session lock, never before.
type registry struct {
	mu     sync.Mutex
	byID   map[string]*entry // guarded by mu
	byUser map[string]*entry // guarded by mu
}

func newRegistry() *registry {
	return &registry{byID: make(map[string]*entry), byUser: make(map[string]*entry)}
}

// add indexes e under its session's id and users. It returns false, and
// changes nothing, if either user is already indexed.
func (r *registry) add(e *entry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range e.users {
		if _, busy := r.byUser[u]; busy {
			return false
		}
	}
	r.byID[e.sessionID] = e
	for _, u := range e.users {
		r.byUser[u] = e
	}
	return true
}

// remove drops the index entries that still point at e.
func (r *registry) remove(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID[e.sessionID] == e {
		delete(r.byID, e.sessionID)
	}
	for _, u := range e.users {
		if r.byUser[u] == e {
			delete(r.byUser, u)
		}
	}
}

func (r *registry) user(userID string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byUser[userID]
}

func (r *registry) session(id string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// all returns every indexed entry.
func (r *registry) all() []*entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*entry, 0, len(r.byID))
	for _, e := range r.byID {
		out = append(out, e)
	}
	return out
}
