package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/lifecycle"
)

// Buffer sizes of a socket. Reads use a small per-socket buffer (larger
// messages bypass it); writes borrow a pooled buffer only while a message
// is being written. The read buffer must be larger than 256 bytes for
// gorilla to use it (see hijackWriter); 288 is a malloc size class.
const (
	readBufferSize  = 288
	writeBufferSize = 4096
)

// defaultDrainWindow spreads Shutdown's disconnects when its context has no
// deadline; drainSteps is how many batches they are spread over.
const defaultDrainWindow = 10 * time.Second

const drainSteps = 20

// Server is an edge node. Lock order: Server.mu before conn.mu.
type Server struct {
	cfg        Config
	log        *slog.Logger
	m          *metrics
	homeRegion string
	upgrader   websocket.Upgrader
	handler    http.Handler

	epoch      time.Time       // the sockets' timers count from it (heartbeat.go)
	timers     socketTimers    // the sockets' timers (timers.go)
	base       context.Context // parent of every socket's context
	cancelBase context.CancelFunc
	ready      chan struct{}
	done       chan struct{} // closed by Close
	closeOnce  sync.Once
	wg         sync.WaitGroup         // every socket and task; Add only under mu while !closed
	tasks      chan func()            // to a worker waiting for one (workers.go); unbuffered
	connGone   chan struct{}          // signalled when a socket leaves conns
	poller     atomic.Pointer[poller] // nil when unavailable; see idle.go
	rs         *resyncs               // users waiting for a resync (resync.go)
	docs       docCache               // the last court:state document of each session (statedocs.go)

	limiterWarned     atomic.Int64      // unix ns of the last Limiter failure logged
	limiterSuppressed atomic.Int64      // Limiter failures not logged since
	limiterDownSince  atomic.Int64      // unix ns of the first Limiter failure of an outage; 0 when none
	local             directory.Limiter // counts rate-limited events while the Limiter fails

	mu       sync.RWMutex     // guards the fields below
	conns    map[uint64]*conn // by conn.id
	lastID   uint64
	polling  bool               // newPoller was tried
	users    map[string][]*conn // registered sockets by user
	perUser  map[string]int     // authenticated sockets by user (caps.go)
	perIP    map[string]int     // open sockets by client address, when capped
	draining bool               // Drain, Shutdown or Close: no new sockets
	shutdown bool               // Shutdown began
	closed   bool
	started  bool          // Run was called
	runDone  chan struct{} // closed when Run returns
	hs       *http.Server
	addr     net.Addr
}

// New builds an edge from cfg. It does no I/O and starts nothing.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer, cfg.Region)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "edge", "region", cfg.Region, "node", cfg.NodeID),
		m:          m,
		homeRegion: cfg.homeRegion(),
		epoch:      time.Now(),
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
		runDone:    make(chan struct{}),
		connGone:   make(chan struct{}, 1),
		tasks:      make(chan func()),
		conns:      make(map[uint64]*conn),
		users:      make(map[string][]*conn),
		rs:         newResyncs(),
		perUser:    make(map[string]int),
		perIP:      make(map[string]int),
		local:      directory.NewMemory(),
	}
	s.timers.s, s.timers.run = s, (*conn).onTimer
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  0, // reuse the hijacked reader: see hijackWriter
		WriteBufferSize: writeBufferSize,
		WriteBufferPool: &sync.Pool{},
		// Browsers from any origin may connect for now: the token, not
		// the origin, authenticates. Restrict once the app's origins
		// are configuration.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", s.serveSocket)
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	mux.HandleFunc("GET /readyz", s.serveReadyz)
	mux.Handle(restPrefix, s.restHandler())
	s.handler = mux
	return s, nil
}

// Handler serves the client endpoint /socket.io/, the REST fallback
// /api/court/ (handler_rest.go) and the probes /healthz and /readyz. Run
// serves it on Addr; tests may serve it with httptest instead.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready is closed once Run listens.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Serving reports whether the edge accepts new sockets: false once Drain,
// Shutdown or Close started (until Undrain, after Drain). Readiness probes
// use it.
func (s *Server) Serving() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !s.draining
}

// Addr is Run's listen address, or nil before Run listens.
func (s *Server) Addr() net.Addr {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.addr
}

// httpIdleTimeout closes a keep-alive HTTP connection (REST fallback,
// probes) that carries no request for this long; WebSocket connections,
// hijacked, are not affected.
const httpIdleTimeout = 2 * time.Minute

// Run listens on Config.Addr and serves until ctx is cancelled (then it
// closes hard and returns nil), or until Shutdown or Close. A second call
// returns lifecycle.ErrRunTwice, a call after Close lifecycle.ErrClosed.
func (s *Server) Run(ctx context.Context) error {
	if err := s.start(); err != nil {
		return err
	}
	defer close(s.runDone)
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: httpIdleTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	if !s.setHTTP(hs, ln.Addr()) {
		ln.Close()
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error { return s.refreshPresence(gctx) })
	g.Go(func() error { return s.runResyncs(gctx) })
	g.Go(func() error {
		select {
		case <-gctx.Done():
		case <-s.done:
		}
		s.closeNow()
		return nil
	})
	close(s.ready)
	s.log.Info("edge listening", "addr", ln.Addr().String())
	return g.Wait()
}

// start marks the server started, or refuses a second Run.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.started:
		return lifecycle.ErrRunTwice
	case s.closed:
		return lifecycle.ErrClosed
	}
	s.started = true
	return nil
}

func (s *Server) setHTTP(hs *http.Server, addr net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.hs != nil {
		return false
	}
	s.hs, s.addr = hs, addr
	return true
}

// Close closes the listener and every socket at once and waits for every
// goroutine, Run's included. It is idempotent and safe without Run.
func (s *Server) Close() error {
	s.closeNow()
	s.mu.RLock()
	started := s.started
	s.mu.RUnlock()
	if started {
		<-s.runDone
	}
	return nil
}

// closeNow closes the listener and every socket and waits for the sockets'
// goroutines.
func (s *Server) closeNow() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed, s.draining = true, true
		hs, conns := s.hs, s.snapshotLocked()
		s.mu.Unlock()
		close(s.done)
		if hs != nil {
			_ = hs.Close()
		}
		for _, c := range conns {
			c.close(reasonShutdown)
		}
		if p := s.poller.Load(); p != nil {
			p.close()
		}
		s.cancelBase()
	})
	s.wg.Wait()
}

func (s *Server) snapshotLocked() []*conn {
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

// track adds a new socket and counts it in s.wg until finish; false means
// the edge is draining. The first socket starts the poller.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	if !s.polling {
		s.startPollerLocked()
	}
	s.lastID++
	c.id = s.lastID
	s.conns[c.id] = c
	s.wg.Add(1)
	s.m.sockets.WithLabelValues(s.cfg.Region).Inc()
	return true
}

// untrack removes a closed socket and reports whether it was the last
// registered socket of its user.
func (s *Server) untrack(c *conn) (lastOfUser bool) {
	s.mu.Lock()
	delete(s.conns, c.id)
	s.releaseCapsLocked(c)
	if c.registered {
		lastOfUser = s.removeUserLocked(c)
	}
	s.mu.Unlock()
	s.m.sockets.WithLabelValues(s.cfg.Region).Dec()
	select {
	case s.connGone <- struct{}{}:
	default:
	}
	return lastOfUser
}

func (s *Server) removeUserLocked(c *conn) (last bool) {
	list := s.users[c.userID]
	for i, x := range list {
		if x == c {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(s.users, c.userID)
		return true
	}
	s.users[c.userID] = list
	return false
}

// startPollerLocked starts the poller of idle sockets. Without one, idle
// sockets keep a reader goroutine. s.mu is held on entry.
func (s *Server) startPollerLocked() {
	s.polling = true
	p, err := newPoller()
	if err != nil {
		s.log.Debug("no poller: idle sockets keep a goroutine", "err", err)
		return
	}
	s.poller.Store(p)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		p.run(s.wake)
	}()
}
