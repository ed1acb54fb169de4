package edge

import (
	"context"
	"time"

	"courtmesh/directory"
	"courtmesh/edge/internal/sio"
	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
)

// presenceBatch bounds the users of one presence refresh call.
const presenceBatch = 500

// DeliverEvent writes ev to every registered socket of ev.UserID on this
// edge. A court:state not newer than the one a socket already has of the
// same session is dropped for that socket (exactly one delivery of each
// version, never an older one after a newer one). It never blocks on a
// socket.
func (s *Server) DeliverEvent(ev *wire.Event) {
	if ev.Name == statedoc.EventName {
		s.deliverDoc(ev) // statedocs.go
		return
	}
	isState := ev.Name == evState
	idle := isState && isIdle(ev.Payload)
	if idle && ev.SessionID != "" {
		s.docs.forget(ev.SessionID)
	}
	s.deliverFrame(ev.UserID, sio.AppendEvent(nil, sio.DefaultNamespace, ev.Name, ev.Payload), nil, isState, idle, ev.SessionID, ev.Version)
}

// deliverFrame pushes b, an event for user, to the user's sockets; a
// court:state (isState) goes under the version rule, and a version gap
// resyncs the user. When buf is set, b was built in it (a buffer of
// framePool, frames.go) and deliverFrame is its last holder: a user with
// one socket on this edge gets it as a frame its writer gives back, else
// it is shared by the user's sockets and left to the collector.
func (s *Server) deliverFrame(user string, b []byte, buf *[]byte, isState, idle bool, session string, version uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	conns := s.users[user]
	f := shared(b)
	if len(conns) <= 1 {
		f = owned(buf, b)
	}
	if len(conns) == 0 {
		f.release()
	}
	gap := false
	for _, c := range conns {
		gap = c.push(f, isState, idle, session, version) || gap
	}
	if gap {
		s.m.resyncs.WithLabelValues(resyncGap).Inc()
		s.rs.mark(user)
	}
}

// push queues frame; a court:state goes under the version rule. It reports
// a version gap: the socket had an older version of the state's session
// than the one before it, so a push was lost on the way.
func (c *conn) push(f frame, isState, idle bool, session string, version uint64) (gap bool) {
	c.mu.Lock()
	if isState {
		gap = session != "" && session == c.sessionID && version > c.version+1
		if !c.admitLocked(session, version, true) {
			c.mu.Unlock()
			f.release()
			c.s.m.dropped.WithLabelValues(dropStale).Inc()
			return false
		}
		c.seq++
		c.idle, c.sent = idle, true
	}
	start, ok := c.enqueueLocked(f)
	c.mu.Unlock()
	c.afterEnqueue(start, ok)
	return gap
}

// addRegistered makes c receive pushes and writes its presence record in
// the background (presence_async.go): the ack does not wait for it. The
// channel tells when the write is done; nil when c is closed.
func (s *Server) addRegistered(c *conn) <-chan bool {
	s.mu.Lock()
	open := s.conns[c.id] == c
	if open && !c.registered {
		c.registered = true
		s.users[c.userID] = append(s.users[c.userID], c)
	}
	s.mu.Unlock()
	if !open {
		return nil
	}
	return s.writePresence(c.userID)
}

// addPresence records the presence of users, and reports whether it did.
func (s *Server) addPresence(ctx context.Context, users ...string) bool {
	if err := s.cfg.Directory.AddPresence(ctx, s.cfg.NodeID, s.cfg.PresenceTTL, users...); err != nil {
		s.log.Warn("add presence failed", "users", len(users), "err", err)
		return false
	}
	return true
}

// userGone removes the presence of a user whose last socket closed. A
// socket of the user registered meanwhile puts it back.
func (s *Server) userGone(user string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	if err := s.cfg.Directory.RemovePresence(ctx, s.cfg.NodeID, user); err != nil {
		s.log.Warn("remove presence failed", "err", err)
	}
	s.mu.RLock()
	back := len(s.users[user]) > 0
	s.mu.RUnlock()
	if back {
		s.addPresence(ctx, user)
	}
}

// refreshPresence renews the presence of every user with a registered
// socket every PresenceTTL/3, until ctx is done or the edge closes.
// Every presenceCheck it also checks, when the directory is a
// directory.PresenceMarker, that the directory still has its presence, and
// records it again at once if not (resync.go).
func (s *Server) refreshPresence(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PresenceTTL / 3)
	defer t.Stop()
	check := time.NewTicker(presenceCheck)
	defer check.Stop()
	marker, _ := s.cfg.Directory.(directory.PresenceMarker)
	marked := marker != nil && s.watchPresence(ctx, marker, true) // at once: a loss before it would go unseen
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case <-t.C:
			s.refreshOnce(ctx)
		case <-check.C:
			if marker != nil {
				marked = s.watchPresence(ctx, marker, !marked) || marked
			}
		}
	}
}

func (s *Server) refreshOnce(ctx context.Context) {
	s.mu.RLock()
	users := make([]string, 0, len(s.users))
	for u := range s.users {
		users = append(users, u)
	}
	s.mu.RUnlock()
	for len(users) > 0 {
		n := min(len(users), presenceBatch)
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		s.addPresence(rctx, users[:n]...)
		cancel()
		users = users[n:]
	}
}
