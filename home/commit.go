package home

import (
	"context"
	"errors"
	"fmt"
	"time"

	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
)

// errMoved answers a request for a session this node just found it no longer
// owns; the edge looks the owner up again and retries.
var errMoved = &wire.Error{Code: wire.CodeNotOwner, Reason: "session moved to another owner", Temporary: true}

// errNoLease answers requests while this node's lease is not valid.
var errNoLease = &wire.Error{Code: wire.CodeUnavailable, Reason: "home: node lease lost", Temporary: true}

// origin is who made a transition, in place of positional actor strings.
type origin struct {
	// event names the transition in the store's event log: a client
	// event's label ("accept"), "timeout", or "judge_<kind>".
	event string
	// user is the acting user and edge the edge the request came through;
	// both empty when the node acted by itself (a timer, a judge result).
	user, edge string
	// request is the request id of a user's action, for the logs.
	request string
}

// userOrigin is the origin of a client action forwarded by an edge.
func userOrigin(req *wire.Request) origin {
	return origin{event: storeEvent(req.Event), user: req.UserID, edge: req.EdgeNode, request: req.ID}
}

// timerOrigin is the origin of a fired timer's transition.
func timerOrigin() origin { return origin{event: "timeout"} }

// judgeOrigin is the origin of a judge result's transition.
func judgeOrigin(kind court.JudgeKind) origin { return origin{event: "judge_" + string(kind)} }

// commitLocked is the commit path of every transition of a held session, in
// five steps:
//
//  1. validate: the node lease is valid and the session still held;
//  2. transition: fn runs on a copy of the session (a refusal changes
//     nothing; a transition that changes nothing commits nothing);
//  3. persist: one fenced Postgres transaction with its side effects;
//  4. apply: the copy replaces the held session, timers are re-armed, an
//     ended session is dropped and its route removed;
//  5. publish: the new states and the transition's events are enqueued to
//     the edges, its judge calls spawned.
//
// A write refused by the store's fence means another node owns the session
// now; a write of unknown outcome may have gone through. Either way the node
// drops the session and hands it back to ownership. Lock held on entry.
//
// It returns the session after fn and, when a new version was committed,
// its publication, which the actor's ack is made from.
func (rt *sessions) commitLocked(ctx context.Context, e *entry, o origin, fn func(*court.Session) error) (*court.Session, *publication, error) {
	if err := rt.validateLocked(e); err != nil {
		return nil, nil, err
	}
	prev := e.sess
	next := prev.Clone()
	if err := fn(next); err != nil {
		return nil, nil, err
	}
	effects := next.TakeEffects()
	if next.Version == prev.Version {
		return next, nil, nil
	}
	ctx, cancel := commitContext(ctx)
	defer cancel()
	if err := rt.persistLocked(ctx, e, o, next, effects); err != nil {
		return nil, nil, err
	}
	rt.applyLocked(ctx, e, next)
	if rt.cfg.AfterCommit != nil {
		rt.cfg.AfterCommit(o.event)
	}
	return next, rt.publishLocked(ctx, e, next, effects, o), nil
}

// commitTimeout bounds the writes of one commit, once started.
const commitTimeout = 5 * time.Second

// commitContext is the context of a commit's writes: ctx's values, not its
// end. A commit runs to its end once started, even if its requester went
// away (the edge's mesh link closed as the edge restarted): a write
// cancelled in flight has an unknown outcome, which costs the session a
// step down and a new epoch, and a route or claim left half done.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
}

// validateLocked checks that the node may commit for e now.
func (rt *sessions) validateLocked(e *entry) error {
	if _, ok := rt.own.lease(); !ok {
		return errNoLease
	}
	if e.gone {
		return errMoved
	}
	return nil
}

// persistLocked writes next, fenced by e's epoch and the previous version.
func (rt *sessions) persistLocked(ctx context.Context, e *entry, o origin, next *court.Session, effects []court.Effect) error {
	start := time.Now()
	err := rt.cfg.Store.Commit(ctx, store.Commit{Prev: e.sess.Version, Session: next, PrevSession: e.sess,
		Epoch: e.epoch, Node: rt.cfg.NodeID, Event: o.event, Effects: effects})
	rt.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	if err == nil {
		return nil
	}
	rt.stepDownLocked(ctx, e, err)
	if errors.Is(err, store.ErrFenced) {
		return errMoved
	}
	// The outcome is unknown (say the connection broke after the commit was
	// sent): the held copy may be behind the store. It is reloaded.
	return fmt.Errorf("commit %s of %s: %w", o.event, next.ID, err)
}

// applyLocked makes next the held session.
func (rt *sessions) applyLocked(ctx context.Context, e *entry, next *court.Session) {
	e.sess = next
	rt.metrics.transitions.WithLabelValues(string(next.Phase)).Inc()
	if !next.Ended() {
		rt.timers.arm(next)
		return
	}
	rt.dropLocked(e)
	// Under the lock, so that once the lock is free the users are in no
	// session anywhere: a serve right after the end is not refused as busy.
	users := next.Users()
	if err := rt.cfg.Directory.EndSession(ctx, next.ID, users[:]...); err != nil {
		rt.log.Warn("end session in directory", "session", next.ID, "err", err)
	}
}

// stepDownLocked drops a session whose write the store refused (another
// node owns it now) or whose write's outcome is unknown (a commit of this
// node whose answer was lost may have gone through, so the held copy is
// behind the store), and hands it back to ownership, which releases its
// lease so that a claim round reloads it from the store at the next epoch.
// Releasing a lease another node holds changes nothing.
func (rt *sessions) stepDownLocked(ctx context.Context, e *entry, cause error) {
	rt.log.Warn("store refused or lost a write: stepping down for the session", "session", e.sessionID,
		"epoch", e.epoch, "err", cause)
	rt.dropLocked(e)
	rt.metrics.leaseLosses.Inc()
	rt.own.handBack(ctx, e.ref())
}

// create is the commit path of a new session (T1), the same five steps with
// persist writing both stores: the users are claimed in Redis, then in
// Postgres (whose court_session_users table is what makes crossed serves
// give exactly one session). The entry is indexed, locked, before the
// claims, so a request for either user waits for the outcome rather than
// finding a claim with no session behind it.
func (rt *sessions) create(ctx context.Context, sess *court.Session, o origin, homeRegion string) (*publication, error) {
	e := newEntry(sess, firstEpoch)
	e.mu.Lock()
	defer e.mu.Unlock()
	effects := sess.TakeEffects()
	ctx, cancel := commitContext(ctx)
	defer cancel()
	if err := rt.persistUnderLeaseLocked(ctx, e, sess, o, homeRegion, effects); err != nil {
		return nil, err
	}
	rt.metrics.sessions.Inc()
	rt.applyLocked(ctx, e, sess)
	return rt.publishLocked(ctx, e, sess, effects, o), nil
}

// persistUnderLeaseLocked indexes e, a new session's entry, and persists
// its session under the node lease (creatingUnderLease): the node does not
// leave the region between the lease check and the session's row.
func (rt *sessions) persistUnderLeaseLocked(ctx context.Context, e *entry, sess *court.Session, o origin, homeRegion string, effects []court.Effect) error {
	release := rt.own.creatingUnderLease()
	defer release()
	inc, ok := rt.own.lease()
	if !ok || rt.closing.Load() {
		return errNoLease
	}
	if !rt.reg.add(e) {
		return court.ErrUsersBusy
	}
	route := directory.Route{SessionID: sess.ID, HomeRegion: homeRegion, OwnerNode: rt.cfg.NodeID,
		OwnerInc: inc, Epoch: firstEpoch}
	if err := rt.persistNewLocked(ctx, sess, route, o, effects); err != nil {
		rt.reg.remove(e)
		e.gone = true
		return err
	}
	return nil
}

// persistNewLocked writes a new session's route and claims to Redis and the
// session to Postgres, undoing the Redis part if Postgres refuses.
func (rt *sessions) persistNewLocked(ctx context.Context, sess *court.Session, route directory.Route, o origin, effects []court.Effect) error {
	err := rt.cfg.Directory.CreateSession(ctx, route, sess.CreatorID, sess.PartnerID)
	if errors.Is(err, directory.ErrUserBusy) {
		return court.ErrUsersBusy
	}
	if err != nil {
		return fmt.Errorf("create session %s in directory: %w", sess.ID, err)
	}
	err = rt.cfg.Store.Create(ctx, store.Create{Session: sess, Epoch: firstEpoch, Node: rt.cfg.NodeID,
		HomeRegion: route.HomeRegion, Event: o.event, Effects: effects})
	if err == nil {
		return nil
	}
	if endErr := rt.cfg.Directory.EndSession(ctx, sess.ID, sess.CreatorID, sess.PartnerID); endErr != nil {
		rt.log.Warn("undo directory claim", "session", sess.ID, "err", endErr)
	}
	if errors.Is(err, store.ErrUserBusy) {
		return court.ErrUsersBusy
	}
	return fmt.Errorf("create session %s in store: %w", sess.ID, err)
}
