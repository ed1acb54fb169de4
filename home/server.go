package home

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/home/court"
)

// maxFiring bounds the timers whose transitions run at the same time.
const maxFiring = 64

// idleWait is how long the timer loop sleeps when no timer is armed; arming
// one wakes it.
const idleWait = time.Hour

// retryDelay is how long a timer whose transition failed to commit waits
// before it fires again. A variable so tests can shorten it.
var retryDelay = time.Second

// ErrRunning is returned by a second call of Run.
var ErrRunning = errors.New("home: already running")

// Server is a home node: the single writer of the sessions it owns.
type Server struct {
	cfg       Config
	durations court.Durations
	log       *slog.Logger
	metrics   *metrics
	reg       *registry
	timers    *timerQueue
	lease     *lease
	answers   *answers
	// live is the region's live home nodes as the last claim round saw them.
	live atomic.Pointer[[]string]
	// missingBefore is the sessions the last repair round found without a
	// route; used only by runRepair's goroutine.
	missingBefore map[string]bool

	// base is the context of spawned work (judge calls); cancelled by Close.
	base       context.Context
	cancelBase context.CancelFunc
	spawnMu    sync.Mutex
	spawned    sync.WaitGroup // Add only under spawnMu while !closed

	running   atomic.Bool
	ready     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a Server for cfg. It does no I/O and starts nothing.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		durations: court.DurationsFromScale(cfg.TimerScale),
		log:       cfg.Logger.With("component", "home", "region", cfg.Region, "node", cfg.NodeID),
		metrics:   m,
		reg:       newRegistry(),
		timers:    newTimerQueue(),
		lease:     &lease{inc: newIncarnation()},
		answers:   newAnswers(),
		ready:     make(chan struct{}),
		closed:    make(chan struct{}),
	}
	s.base, s.cancelBase = context.WithCancel(context.Background())
	return s, nil
}

// Run renews the node lease, takes over the region's orphaned sessions,
// and fires timers, until ctx is cancelled or Close is called. It then
// waits for the work it started and returns nil. Ready is closed once the
// node holds its lease.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.stopSpawning()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		select {
		case <-ctx.Done():
		case <-s.closed:
			cancel()
		}
		return nil
	})
	g.Go(func() error { return s.runHeartbeat(ctx) })
	g.Go(func() error { return s.runClaims(ctx) })
	g.Go(func() error { return s.runTimers(ctx) })
	g.Go(func() error { return s.runRepair(ctx) })
	g.Go(func() error { return s.signalReady(ctx) })
	return g.Wait()
}

// signalReady closes ready once the first lease renewal succeeded.
func (s *Server) signalReady(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !s.lease.valid() {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	close(s.ready)
	s.log.Info("home running", "timer_scale", s.cfg.TimerScale, "lease_ttl", s.cfg.LeaseTTL)
	return nil
}

// Ready is closed once Run holds the node lease.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Close stops Run and refuses further requests. It is idempotent. The
// sessions stay owned by this node's lease in Redis until it expires; then
// the region's other home nodes take them over.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.cancelBase()
	})
	return nil
}

func (s *Server) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// spawn runs f in a goroutine that Run waits for. After Run returned, or
// after Close, it runs nothing.
func (s *Server) spawn(f func(ctx context.Context)) {
	s.spawnMu.Lock()
	defer s.spawnMu.Unlock()
	if s.isClosed() {
		return
	}
	s.spawned.Add(1)
	go func() {
		defer s.spawned.Done()
		f(s.base)
	}()
}

// stopSpawning refuses new spawned work and waits for what runs.
func (s *Server) stopSpawning() {
	s.spawnMu.Lock()
	_ = s.Close()
	s.spawnMu.Unlock()
	s.spawned.Wait()
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// runTimers pops due timers and fires each in its own tracked goroutine.
func (s *Server) runTimers(ctx context.Context) error {
	var firing errgroup.Group
	firing.SetLimit(maxFiring)
	defer firing.Wait()
	wait := time.NewTimer(idleWait)
	defer wait.Stop()
	for {
		wait.Reset(s.untilNext())
		select {
		case <-ctx.Done():
			return nil
		case <-s.timers.wake:
		case <-wait.C:
		}
		for _, t := range s.timers.due(s.now()) {
			firing.Go(func() error {
				s.fire(ctx, t)
				return nil
			})
		}
	}
}

// untilNext is how long until the earliest timer is due.
func (s *Server) untilNext() time.Duration {
	at, ok := s.timers.next()
	if !ok {
		return idleWait
	}
	return max(at.Sub(s.now()), 0)
}

// fire runs timer t's transition if the session is still at the version t
// was armed for. The commit is fenced like any other: a stale or duplicate
// timer, or a stale owner, changes nothing.
func (s *Server) fire(ctx context.Context, t timer) {
	e := s.reg.session(t.session)
	if e == nil {
		s.metrics.fires.WithLabelValues(fireStale).Inc()
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone || e.sess.Version != t.version || e.sess.Phase != t.phase {
		s.metrics.fires.WithLabelValues(fireStale).Inc()
		return
	}
	s.metrics.timerLag.Observe(s.now().Sub(t.at).Seconds())
	_, err := s.commitLocked(ctx, e, "timeout", s.expiry(t), "", "")
	switch {
	case err == nil:
		s.metrics.fires.WithLabelValues(fireDone).Inc()
	case errors.Is(err, court.ErrNotDue), errors.Is(err, errMoved):
		s.metrics.fires.WithLabelValues(fireStale).Inc()
	default:
		s.metrics.fires.WithLabelValues(fireFailed).Inc()
		s.log.Warn("timer failed; retrying", "session", t.session, "phase", t.phase, "err", err)
		s.timers.retry(t, s.now().Add(retryDelay))
	}
}

// expiry is the transition a timer of kind t.kind makes.
func (s *Server) expiry(t timer) func(*court.Session) error {
	if t.kind == settleTimer {
		return func(x *court.Session) error { return x.ExpireSettlement(s.now()) }
	}
	return func(x *court.Session) error {
		caseID, err := newSessionID() // used only if the timer closes the session
		if err != nil {
			return err
		}
		return x.Expire(s.now(), caseID, s.durations)
	}
}
