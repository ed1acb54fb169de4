package home

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
)

// ownership is the lease machinery of a home node (docs/ownership.md): the
// node lease and its heartbeat, the claim rounds that take sessions over and
// hand them to a peer that joined, the repair of the directory, the step-down
// when the node may no longer act, and the hand-over of every held session
// on Shutdown. It decides which sessions the runtime (rt) holds; it never
// reads or changes a session's state.
type ownership struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	rt      heldSessions
	node    *nodeLease
	// beating is held while a heartbeat is sent, and while the hand-over
	// ends the node lease, so that no heartbeat in flight brings the lease
	// back after Leave.
	beating sync.Mutex
	// live is the region's home nodes that take sessions, as the last claim
	// round saw them: live by their node lease, and not draining by the
	// membership (placement).
	live atomic.Pointer[[]string]
	// peerStates is the membership state of the region's other home nodes,
	// by id, as the last membership read saw them; nil: none read.
	peerStates atomic.Pointer[map[string]string]
	// rounds serialises the claim rounds and the hand-over, so that no
	// round installs a session the hand-over already passed.
	rounds sync.Mutex
	// leaving is set, under rounds, by the hand-over: no claim or repair
	// round runs after it.
	leaving atomic.Bool
	// creating counts the sessions being created, from their lease check
	// until they are in the store; the hand-over waits for them before it
	// deletes the node lease. A session's route is written before its row;
	// once the lease is gone the region's claim rounds may take the route
	// as an orphan's, and a round that finds no row forgets the session
	// (claims.go, forget), so the row must be there first.
	creating inFlight
	// missingBefore is the sessions the last repair round found without a
	// route; used only by runRepair's goroutine.
	missingBefore map[string]bool
	// pinned is the held sessions that came here by a migration: the
	// rendezvous hand-off leaves them here.
	pinMu  sync.Mutex
	pinned map[string]bool // guarded by pinMu
}

func newOwnership(cfg Config, log *slog.Logger, m *metrics) *ownership {
	return &ownership{cfg: cfg, log: log, metrics: m, node: &nodeLease{inc: newIncarnation()}, pinned: make(map[string]bool)}
}

// run keeps the node lease, the claim rounds and the repair rounds going
// until ctx ends.
func (o *ownership) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return o.runHeartbeat(ctx) })
	g.Go(func() error { return o.runClaims(ctx) })
	g.Go(func() error { return o.runRepair(ctx) })
	return g.Wait()
}

// followMembers records the membership states of the region's other home
// nodes.
func (o *ownership) followMembers(ms []directory.Member) {
	states := make(map[string]string)
	for _, m := range ms {
		if m.Role == "home" && m.Region == o.cfg.Region && m.ID != o.cfg.NodeID {
			states[m.ID] = m.State
		}
	}
	o.peerStates.Store(&states)
}

// placement is the nodes of live (live by their node lease) that take
// sessions: this node, and every peer the membership does not show
// draining or drained (one it does not know, a seed or a node whose
// announcement lapsed, counts as taking them). It only ever narrows live:
// the membership cannot make a dead node look alive.
func (o *ownership) placement(live []string) []string {
	p := o.peerStates.Load()
	if p == nil {
		return live
	}
	out := make([]string, 0, len(live))
	for _, id := range live {
		if st, ok := (*p)[id]; id == o.cfg.NodeID || !ok || st == directory.StateActive {
			out = append(out, id)
		}
	}
	return out
}

// lease implements leaseHolder.
func (o *ownership) lease() (string, bool) { return o.node.state() }

// creatingUnderLease implements leaseHolder.
func (o *ownership) creatingUnderLease() func() {
	o.creating.enter()
	return o.creating.exit
}

// inFlight counts operations in flight and lets waiters wait until none
// is, on a channel (not a lock, so a waiter in a synctest bubble is durably
// blocked). Not a sync.WaitGroup: an operation may enter while a waiter
// waits with nothing in flight (a creation reaching its lease check as the
// hand-over begins), which a WaitGroup forbids.
type inFlight struct {
	mu   sync.Mutex
	n    int           // guarded by mu
	idle chan struct{} // guarded by mu; closed when n falls to 0 with a waiter
}

func (f *inFlight) enter() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inFlight) exit() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n--; f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

// wait returns once nothing is in flight.
func (f *inFlight) wait() {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	idle := f.idle
	f.mu.Unlock()
	<-idle
}

// liveNodes implements leaseHolder.
func (o *ownership) liveNodes() []string {
	if p := o.live.Load(); p != nil {
		return *p
	}
	return nil
}

// handBack implements leaseHolder.
func (o *ownership) handBack(ctx context.Context, ref heldRef) { o.release(ctx, ref) }

// releaseTimeout bounds the release of one session's lease.
const releaseTimeout = 5 * time.Second

// release hands a dropped session to the region: its lease is released, or,
// if the directory lost the route (Redis lost its data), the route is
// written back released. Either way a claim round takes the session over.
func (o *ownership) release(ctx context.Context, ref heldRef) {
	// The caller's context may be a request's that has just ended (its
	// edge went away): the release must be done all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	inc, _ := o.node.state()
	err := o.cfg.Directory.Release(ctx, ref.ID, o.cfg.NodeID, inc)
	if errors.Is(err, directory.ErrNotFound) {
		route := directory.Route{SessionID: ref.ID, HomeRegion: o.cfg.Region, Epoch: ref.Epoch}
		err = o.cfg.Directory.CreateSession(ctx, route, ref.Users[0], ref.Users[1])
	}
	if err != nil && !errors.Is(err, directory.ErrNotOwner) {
		o.log.Warn("release session", "session", ref.ID, "err", err)
	}
}

// nodeLease is this node's node lease: the incarnation it heartbeats under
// and the instant, on the monotonic clock, until which it may act. Every
// session lease this node holds is bound to it.
type nodeLease struct {
	mu    sync.Mutex
	inc   string    // guarded by mu
	until time.Time // guarded by mu; zero before the first renewal
	left  bool      // guarded by mu; set by end
}

func newIncarnation() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// state returns the current incarnation and whether the node may act for
// its sessions now.
func (l *nodeLease) state() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inc, !l.until.IsZero() && time.Now().Before(l.until)
}

// renewed records a renewal sent at sent: the lease holds until ttl after
// it, less a margin for clock rate differences between this node and Redis.
func (l *nodeLease) renewed(inc string, sent time.Time, ttl time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inc == inc {
		l.until = sent.Add(ttl - ttl/5)
	}
}

// expire ends the lease and starts a new incarnation if the lease has run
// out. It reports whether it did.
func (l *nodeLease) expire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until.IsZero() || time.Now().Before(l.until) {
		return false
	}
	l.until = time.Time{}
	l.inc = newIncarnation()
	return true
}

// end ends the lease (the node is leaving) until rejoin, and returns the
// incarnation it was held under.
func (l *nodeLease) end() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.until, l.left = time.Time{}, true
	return l.inc
}

// rejoin undoes end under a new incarnation.
func (l *nodeLease) rejoin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left {
		l.left, l.inc = false, newIncarnation()
	}
}

// hasLeft reports whether end was called (and rejoin not since).
func (l *nodeLease) hasLeft() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.left
}

// runHeartbeat renews the node lease every LeaseTTL/3. A node whose lease ran
// out (Redis unreachable, or the process paused past its TTL) steps down from
// every session at once and comes back under a new incarnation, so its old
// sessions look dead to the region and are taken over, by it or by a peer.
func (o *ownership) runHeartbeat(ctx context.Context) error {
	tick := time.NewTicker(o.cfg.LeaseTTL / 3)
	defer tick.Stop()
	fails := 0
	for {
		if o.node.expire() {
			o.stepDownAll("node lease expired")
		}
		err := o.beat(ctx)
		switch {
		case err == nil, errors.Is(err, errLeft):
			fails = 0
		case ctx.Err() != nil:
			return nil
		default:
			if fails++; fails == 1 || fails%20 == 0 {
				o.log.Warn("node lease renewal failed", "err", err, "fails", fails)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// errLeft pauses the heartbeat while the node is out of the region (after
// the hand-over, until rejoin).
var errLeft = errors.New("home: node left the region")

// beat renews the node lease once.
func (o *ownership) beat(ctx context.Context) error {
	o.beating.Lock()
	defer o.beating.Unlock()
	if o.node.hasLeft() {
		return errLeft
	}
	inc, _ := o.node.state()
	sent := time.Now()
	if err := o.cfg.Directory.Heartbeat(ctx, o.cfg.NodeID, o.cfg.Region, inc, o.cfg.LeaseTTL); err != nil {
		return err
	}
	o.node.renewed(inc, sent, o.cfg.LeaseTTL)
	return nil
}

// stepDownAll drops every held session: the node stops acting for them at
// once. Their leases stay in Redis under the old incarnation, which is dead,
// so the claim rounds of the region (this node's included) take them over
// with a new epoch.
func (o *ownership) stepDownAll(why string) {
	n := 0
	for _, ref := range o.rt.held() {
		if _, ok := o.rt.drop(ref.ID); ok {
			n++
		}
	}
	o.metrics.leaseLosses.Add(float64(n))
	o.log.Warn("stepped down from every session", "reason", why, "sessions", n)
}

// dropParallel bounds the drops the hand-over has in flight.
const dropParallel = 32

// handOver gives every held session to the region's other home nodes: the
// node stops acting at once (its lease is ended locally, so no commit and
// no timer acts any more), its node lease is deleted, so the region counts
// it out and its sessions are orphans of a dead node, and every held
// session is dropped (after the commit in flight, if any). A peer's next
// claim round (within ClaimInterval) acquires each session at the next
// epoch and re-arms its timers from the stored deadlines; actions meanwhile
// are answered unavailable (temporary: the edge retries them at the new
// owner). It returns how many sessions it dropped. The node stays out of
// the region until rejoin.
func (o *ownership) handOver(ctx context.Context) (int, error) {
	o.stopRounds()
	o.beating.Lock()
	inc := o.node.end()
	o.beating.Unlock()
	o.creating.wait() // creations that passed their lease check reach the store first
	o.beating.Lock()
	err := o.cfg.Directory.Leave(ctx, o.cfg.NodeID, inc)
	o.beating.Unlock()
	if err != nil {
		return 0, err
	}
	var n atomic.Int64
	g := errgroup.Group{}
	g.SetLimit(dropParallel)
	for _, ref := range o.rt.held() {
		g.Go(func() error {
			if _, ok := o.rt.drop(ref.ID); ok {
				n.Add(1)
			}
			return nil
		})
	}
	_ = g.Wait()
	return int(n.Load()), ctx.Err()
}

// stopRounds waits for the claim or repair round in progress, if any, and
// keeps any other from running until rejoin.
func (o *ownership) stopRounds() {
	o.rounds.Lock()
	o.leaving.Store(true)
	o.rounds.Unlock()
}

// rejoin brings a node that handed everything over back into the region
// under a new incarnation: the next heartbeat takes the node lease, and the
// claim rounds, which hand it its share, run again.
func (o *ownership) rejoin() {
	o.beating.Lock()
	o.node.rejoin()
	o.beating.Unlock()
	o.rounds.Lock()
	o.leaving.Store(false)
	o.rounds.Unlock()
}
