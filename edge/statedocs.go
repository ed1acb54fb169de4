package edge

import (
	"context"
	"sync"
	"time"

	"courtmesh/edge/internal/sio"
	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
)

// The homes send a live session's court:state as a document for the users
// of the session on this edge, whole or as the fields that changed since
// the version the edge has (package statedoc). The edge keeps the last
// document of each session and rebuilds each user's court:state from it,
// byte for byte what the home would have sent. A delta the edge cannot
// apply (it missed a version: a lost push, an evicted copy) is not
// delivered: the users it was for are resynced (resync.go), which reads
// their whole state from the home.

// maxDocBytes bounds the copies of the documents kept; beyond it the edge
// forgets copies, and a session whose copy was forgotten is resynced at
// its next delta.
const maxDocBytes = 64 << 20

// docIdleTTL is how long the edge keeps the copy of a session no document
// touched. A session ends with an IDLE state to its users, but one whose
// users left the edge before it ended sends the edge nothing more: its copy
// would stay until maxDocBytes pushed it out, so the edge's memory would
// follow recent traffic, not live sessions. A live session quiet for longer
// only pays a resync at its next delta.
const docIdleTTL = 2 * time.Minute

// docSweepEvery bounds how often apply looks for copies past docIdleTTL.
const docSweepEvery = 10 * time.Second

// docCache is the last document of each session with users on this edge.
type docCache struct {
	mu    sync.Mutex
	bytes int
	m     map[string]*docCopy // by session id
	swept time.Time           // when apply last looked for idle copies
	// waits are the waits for each session's next document (await).
	waits map[string]*docWait
}

// docWait is a wait for a session's next document: ch is closed when one
// is applied or refused; n counts the waiters.
type docWait struct {
	ch chan struct{}
	n  int
}

// docCopy is a session's document and when a document last touched it.
type docCopy struct {
	sess *statedoc.Session
	used time.Time
}

// apply applies d, version of session, to the session's copy: the copy
// after it, or false when d is a delta the copy cannot take (the copy is
// then forgotten). A document older than the copy is applied to nothing:
// it is delivered to sockets that still lack it (the version rule decides)
// but not kept.
func (dc *docCache) apply(session string, version uint64, d *statedoc.Doc) (*statedoc.Session, bool) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if w := dc.waits[session]; w != nil { // they look once the lock is free
		close(w.ch)
		delete(dc.waits, session)
	}
	now := time.Now()
	var prev *statedoc.Session
	if c := dc.m[session]; c != nil {
		prev = c.sess
		if version <= prev.Version {
			return statedoc.Apply(nil, d, version)
		}
	}
	next, ok := statedoc.Apply(prev, d, version)
	dc.forgetLocked(session)
	if !ok {
		return nil, false
	}
	if dc.m == nil {
		dc.m = make(map[string]*docCopy)
	}
	if now.Sub(dc.swept) >= docSweepEvery {
		dc.swept = now
		for id, c := range dc.m {
			if now.Sub(c.used) >= docIdleTTL {
				dc.forgetLocked(id)
			}
		}
	}
	for id := range dc.m {
		if dc.bytes+next.Size() <= maxDocBytes {
			break
		}
		dc.forgetLocked(id)
	}
	dc.m[session] = &docCopy{sess: next, used: now}
	dc.bytes += next.Size()
	return next, true
}

// await returns the copy of session at version or newer, waiting until ctx
// ends for the document that brings it (each document applied or refused
// wakes it once, so it loops at most once per document). Without one it
// returns why: docAckLate when ctx ended first, docAckLost when a document
// came but left no copy (a delta the copy could not take).
func (dc *docCache) await(ctx context.Context, session string, version uint64) (*statedoc.Session, string) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	for woken := false; ; woken = true {
		c := dc.m[session]
		switch {
		case c != nil && c.sess.Version >= version:
			return c.sess, ""
		case c == nil && woken:
			return nil, docAckLost
		}
		w := dc.waits[session]
		if w == nil {
			if dc.waits == nil {
				dc.waits = make(map[string]*docWait)
			}
			w = &docWait{ch: make(chan struct{})}
			dc.waits[session] = w
		}
		w.n++
		dc.mu.Unlock()
		select {
		case <-w.ch:
			dc.mu.Lock()
		case <-ctx.Done():
			dc.mu.Lock()
			if w.n--; w.n == 0 && dc.waits[session] == w {
				delete(dc.waits, session)
			}
			return nil, docAckLate
		}
	}
}

// forget drops the copy of session: it ended.
func (dc *docCache) forget(session string) {
	dc.mu.Lock()
	dc.forgetLocked(session)
	dc.mu.Unlock()
}

func (dc *docCache) forgetLocked(session string) {
	if c, ok := dc.m[session]; ok {
		dc.bytes -= c.sess.Size()
		delete(dc.m, session)
	}
}

// deliverDoc delivers a court:state document to the sockets of its users.
func (s *Server) deliverDoc(ev *wire.Event) {
	d, err := statedoc.Decode(ev.Payload)
	if err != nil {
		s.log.Warn("dropped a malformed court:state document", "session", ev.SessionID, "err", err)
		return
	}
	sess, ok := s.docs.apply(ev.SessionID, ev.Version, d)
	for _, u := range d.Users {
		if !ok || !sess.Has(u) {
			s.m.resyncs.WithLabelValues(resyncGap).Inc()
			s.rs.mark(u.ID)
			continue
		}
		buf := newFrameBuf()
		b := sio.AppendEventFunc(*buf, sio.DefaultNamespace, evState, func(b []byte) []byte { return sess.AppendState(b, u) })
		s.deliverFrame(u.ID, b, buf, true, false, ev.SessionID, ev.Version)
	}
}
