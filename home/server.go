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

// Server is a home node: the owner of its sessions.
type Server struct {
	cfg       Config
	durations court.Durations
	log       *slog.Logger
	metrics   *metrics
	reg       *registry
	timers    *timerQueue

	running   atomic.Bool
	ready     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a Server for cfg. It does no I/O.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:       cfg,
		durations: court.DurationsFromScale(cfg.TimerScale),
		log:       cfg.Logger.With("component", "home", "region", cfg.Region, "node", cfg.NodeID),
		metrics:   m,
		reg:       newRegistry(),
		timers:    newTimerQueue(),
		ready:     make(chan struct{}),
		closed:    make(chan struct{}),
	}, nil
}

// Run fires the session timers until ctx is cancelled or Close is called,
// then waits for the transitions it started. It returns nil then. Requests
// are served whether or not Run runs; timers armed before Run fire once it
// starts.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		select {
		case <-ctx.Done():
		case <-s.closed:
			cancel()
		}
		return nil
	})
	g.Go(func() error { return s.runTimers(ctx) })
	close(s.ready)
	s.log.Info("home running", "timer_scale", s.cfg.TimerScale)
	return g.Wait()
}

// Ready is closed once Run has started.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Close stops Run and refuses further requests. It is idempotent. Sessions
// stay in the directory: with no persistence yet they are lost, and the next
// request of either user releases them.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
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

// fire runs timer t's transition if the session is still in the phase and
// version t was armed for.
func (s *Server) fire(ctx context.Context, t timer) {
	e := s.reg.session(t.session)
	if e == nil {
		s.metrics.fires.WithLabelValues(fireStale).Inc()
		return
	}
	e.mu.Lock()
	if e.gone || e.sess.Version != t.version || e.sess.Phase != t.phase {
		e.mu.Unlock()
		s.metrics.fires.WithLabelValues(fireStale).Inc()
		return
	}
	next, err := s.transit(ctx, e, func(x *court.Session) error { return x.Expire(s.now(), s.durations) })
	if err == nil {
		s.notify(ctx, next, "", "")
	}
	e.mu.Unlock()
	if err != nil {
		s.metrics.fires.WithLabelValues(fireFailed).Inc()
		s.log.Warn("phase timer failed; retrying", "session", t.session, "phase", t.phase, "err", err)
		s.timers.retry(t, s.now().Add(retryDelay))
		return
	}
	s.metrics.fires.WithLabelValues(fireDone).Inc()
	s.log.Debug("phase timer fired", "session", t.session, "phase", t.phase, "next", next.Phase)
}
