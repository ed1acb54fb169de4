package edge

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// presenceChecks bounds the fresh directory reads in flight of one round of
// checks.
const presenceChecks = 32

// presenceQueue holds, off the ack path, the presence records of newly
// registered users and the users whose register found no session. One
// writer at a time (spawned by the first entry) writes them in rounds: the
// entries that arrive during a round's round trip make the next one.
//
// A register answered IDLE from the directory's cache (the regional
// replica's) may miss a session created just before, and until this edge's
// presence is in the primary the home's pushes do not find it. So once a
// round's presence is written, the users it checks are looked up fresh: a
// session created before the presence write is seen then (and the user
// resynced), one created after finds the presence and is pushed.
type presenceQueue struct {
	mu      sync.Mutex
	add     map[string]struct{} // guarded by mu
	check   map[string]struct{} // guarded by mu
	running bool                // guarded by mu; a writer is spawned
}

// queuePresence queues the presence of user, and a check when check is set,
// and starts a writer when none runs.
func (s *Server) queuePresence(user string, add, check bool) {
	q := &s.pq
	q.mu.Lock()
	if add {
		q.add = addTo(q.add, user)
	}
	if check {
		q.check = addTo(q.check, user)
	}
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		s.spawn(s.writePresence)
	}
}

func addTo(set map[string]struct{}, k string) map[string]struct{} {
	if set == nil {
		set = make(map[string]struct{})
	}
	set[k] = struct{}{}
	return set
}

// take returns the entries queued, or marks the writer gone when there are
// none.
func (q *presenceQueue) take() (add, check map[string]struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	add, check = q.add, q.check
	q.add, q.check = nil, nil
	if len(add) == 0 && len(check) == 0 {
		q.running = false
	}
	return add, check
}

// writePresence writes queued presence and runs queued checks, round after
// round, until the queue is empty. A failed write is logged and left to the
// periodic refresh, as before it went off the ack path.
func (s *Server) writePresence() {
	for {
		add, check := s.pq.take()
		if len(add) == 0 && len(check) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(s.base, s.cfg.RequestTimeout)
		users := s.stillRegistered(add)
		ok := true
		for len(users) > 0 {
			n := min(len(users), presenceBatch)
			ok = s.addPresence(ctx, users[:n]...) && ok
			users = users[n:]
		}
		if ok {
			s.checkSessions(ctx, s.stillRegistered(check))
		}
		cancel()
	}
}

// stillRegistered returns the users of set that have a registered socket.
func (s *Server) stillRegistered(set map[string]struct{}) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(set))
	for u := range set {
		if len(s.users[u]) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// checkSessions resyncs the users the primary puts in a session.
func (s *Server) checkSessions(ctx context.Context, users []string) {
	var g errgroup.Group
	g.SetLimit(presenceChecks)
	for _, u := range users {
		g.Go(func() error {
			if _, err := s.cfg.Directory.Lookup(ctx, u, true); err == nil {
				s.m.resyncs.WithLabelValues(resyncRegister).Inc()
				s.rs.mark(u)
			}
			return nil
		})
	}
	_ = g.Wait()
}
