package edge

import "context"

// Presence off the ack path. A register records the user's presence in
// the background: its ack waits neither for that write nor, for a user in
// no session, for the primary (the directory's cache, the regional
// replica's, answers). Concurrent writes share rueidis' pipeline, so each
// goes out at once instead of queueing behind another's round trip.
//
// A register answered IDLE from the cache may miss a session created just
// before, and until this edge's presence is in the primary the home's
// pushes do not find it. So once the presence is written, the user is
// resynced: a session created before the write is found then (by the cache,
// which has had a round trip to catch up, or else the primary), one created
// after finds the presence and is pushed.

// writePresence records user's presence in the background and returns a
// channel closed once the write is done; it carries true when it succeeded.
// A failed write is logged and left to the periodic refresh, as it was
// before it left the ack path.
func (s *Server) writePresence(user string) <-chan bool {
	done := make(chan bool, 1)
	s.spawn(func() {
		ctx, cancel := context.WithTimeout(s.base, s.cfg.RequestTimeout)
		defer cancel()
		done <- s.addPresence(ctx, user)
		close(done)
	})
	return done
}

// resyncAfter resyncs user, in the background, once written (its presence
// write) is done.
func (s *Server) resyncAfter(written <-chan bool, user string) {
	s.spawn(func() {
		if ok := <-written; ok {
			s.m.resyncs.WithLabelValues(resyncRegister).Inc()
			s.rs.mark(user)
		}
	})
}
