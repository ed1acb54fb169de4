package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/edge/internal/sio"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// Resync: the edge fetches a user's current state (protocol.ReadState, one
// read per user however many of its sockets or triggers ask) and delivers
// it to the user's sockets under the version rule, when a push may have
// been lost: a home's link went down or came up (the events queued on it
// are lost), a court:state skipped a version, or the directory lost the
// edge's presence (pushes found no edge meanwhile).
const (
	// resyncWorkers bounds the reads in flight.
	resyncWorkers = 8
	// resyncRetry is how soon a read that failed is tried again.
	resyncRetry = time.Second
	// resyncMissGrace is how long a directory miss for a user whose sockets
	// show a session is taken for a directory that lost its routes (they
	// are repaired within seconds) before it is believed: the session ended.
	resyncMissGrace = 10 * time.Second
	// presenceCheck is how often the edge checks its presence marker.
	presenceCheck = time.Second
)

// idlePrefix starts every IDLE court:state.
var idlePrefix = []byte(`{"phase":"IDLE"`)

func isIdle(state []byte) bool { return bytes.HasPrefix(state, idlePrefix) }

// resyncs is the set of users waiting for a resync. Lock order: Server.mu
// before resyncs.mu.
type resyncs struct {
	mu    sync.Mutex
	users map[string]time.Time // user → first directory miss (zero: none)
	wake  chan struct{}
}

func newResyncs() *resyncs {
	return &resyncs{users: make(map[string]time.Time), wake: make(chan struct{}, 1)}
}

// mark queues user for a resync.
func (r *resyncs) mark(user string) {
	r.mu.Lock()
	if _, ok := r.users[user]; !ok {
		r.users[user] = time.Time{}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// retry queues user again after a failed read, keeping its first miss.
func (r *resyncs) retry(user string, firstMiss time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.users[user]; !ok || old.IsZero() {
		r.users[user] = firstMiss
	}
}

func (r *resyncs) take() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.users) == 0 {
		return nil
	}
	out := r.users
	r.users = make(map[string]time.Time)
	return out
}

// HomeLinkChanged resyncs every registered socket: the link to a home went
// down or came up, and the court:state events queued on it may be lost.
func (s *Server) HomeLinkChanged() {
	s.m.resyncs.WithLabelValues(resyncLink).Inc()
	s.resyncAll()
}

func (s *Server) resyncAll() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for u := range s.users {
		s.rs.mark(u)
	}
}

// runResyncs serves the resync queue until ctx is done or the edge closes.
func (s *Server) runResyncs(ctx context.Context) error {
	t := time.NewTicker(resyncRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case <-s.rs.wake:
		case <-t.C:
		}
		batch := s.rs.take()
		var g errgroup.Group
		g.SetLimit(resyncWorkers)
		for user, firstMiss := range batch {
			g.Go(func() error {
				if again, miss := s.resyncUser(ctx, user, firstMiss); again {
					s.rs.retry(user, miss)
				}
				return nil
			})
		}
		_ = g.Wait()
	}
}

// readState reads user's state from its session's home: routed by the
// directory's cache first, and by the primary when the cache finds no
// session, as the cache (a regional replica) may be behind the serve that
// made the route. errNoSession means neither has one.
func (s *Server) readState(ctx context.Context, user string) (*wire.Response, error) {
	resp, err := s.forward(ctx, s.request(user, evReadState, nil), false)
	if errors.Is(err, errNoSession) {
		resp, err = s.forward(ctx, s.request(user, evReadState, nil), true)
	}
	return resp, err
}

// resyncUser reads user's state and delivers it to the user's sockets. It
// reports whether to try again, and the first directory miss.
func (s *Server) resyncUser(ctx context.Context, user string, firstMiss time.Time) (again bool, miss time.Time) {
	s.mu.RLock()
	socks := slices.Clone(s.users[user])
	s.mu.RUnlock()
	if len(socks) == 0 {
		return false, firstMiss
	}
	seqs := make([]uint32, len(socks))
	inSession := false
	for i, c := range socks {
		c.mu.Lock()
		seqs[i] = c.seq
		inSession = inSession || c.sessionID != "" && !c.idle
		c.mu.Unlock()
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	resp, err := s.readState(rctx, user)
	cancel()
	var state json.RawMessage
	var session string
	var version uint64
	switch {
	case errors.Is(err, errNoSession) && inSession:
		// The directory has no route: the session ended, or Redis lost
		// it and a home is repairing it. Believe it after the grace.
		now := time.Now()
		if firstMiss.IsZero() {
			firstMiss = now
		}
		if now.Sub(firstMiss) < resyncMissGrace {
			return true, firstMiss
		}
		state = protocol.IdleState
	case errors.Is(err, errNoSession):
		state = protocol.IdleState
	case err != nil:
		s.log.Debug("resync failed", "user", user, "err", err)
		s.m.resyncs.WithLabelValues(resyncFailed).Inc()
		return true, firstMiss
	default:
		if state = stateOf(resp.Ack); state == nil {
			return false, firstMiss
		}
		session, version = resp.SessionID, resp.Version
	}
	frame := sio.AppendEvent(nil, sio.DefaultNamespace, evState, state)
	idle := isIdle(state)
	for i, c := range socks {
		if c.resynced(frame, seqs[i], session, version, idle) {
			s.m.resyncs.WithLabelValues(resyncDelivered).Inc()
		}
	}
	return false, firstMiss
}

// resynced delivers frame, the state (session, version) read by a resync
// that began at the socket's seq (states delivered and versions acked), if
// it is news to the socket: a newer version of the socket's session; or,
// when the seq did not move since the read began (so the read is the
// newer), another session, or IDLE to a socket that does not show IDLE.
func (c *conn) resynced(frame []byte, seq uint32, session string, version uint64, idle bool) bool {
	c.mu.Lock()
	var news bool
	switch {
	case session != "" && session == c.sessionID:
		news = version > c.version
	case c.seq != seq:
		news = false
	case idle:
		news = !c.idle
	default:
		news = true
	}
	if !news {
		c.mu.Unlock()
		return false
	}
	if session != "" {
		c.sessionID, c.version = session, version
	}
	c.seq++
	c.idle, c.sent = idle, true
	start, ok := c.enqueueLocked(shared(frame))
	c.mu.Unlock()
	c.afterEnqueue(start, ok)
	return true
}

// watchPresence sets the edge's presence marker, every presenceCheck. When
// the directory lost it (not on the first call, which creates it), the edge
// records the presence of every registered user again at once and resyncs
// them (pushes meanwhile found no edge). It reports whether the marker is
// set.
func (s *Server) watchPresence(ctx context.Context, marker directory.PresenceMarker, first bool) bool {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	kept, err := marker.MarkPresence(rctx, s.cfg.NodeID, s.cfg.PresenceTTL)
	cancel()
	if err != nil {
		s.log.Debug("presence marker", "err", err)
		return false
	}
	if kept || first {
		return true
	}
	s.mu.RLock()
	n := len(s.users)
	s.mu.RUnlock()
	if n == 0 {
		return true
	}
	s.log.Warn("the directory lost this edge's presence; recording it again", "users", n)
	s.m.resyncs.WithLabelValues(resyncPresence).Inc()
	s.refreshOnce(ctx)
	s.resyncAll()
	return true
}
