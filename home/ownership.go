package home

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// lease is this node's node lease: the incarnation it heartbeats under and
// the instant, on the monotonic clock, until which it may act. Every session
// lease this node holds is bound to it (docs/ownership.md).
type lease struct {
	mu    sync.Mutex
	inc   string    // guarded by mu
	until time.Time // guarded by mu; zero before the first renewal
}

func newIncarnation() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// valid reports whether the node may act for its sessions now.
func (l *lease) valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.until.IsZero() && time.Now().Before(l.until)
}

// incarnation returns the current incarnation.
func (l *lease) incarnation() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inc
}

// renewed records a renewal sent at sent: the lease holds until ttl after
// it, less a margin for clock rate differences between this node and Redis.
func (l *lease) renewed(inc string, sent time.Time, ttl time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inc == inc {
		l.until = sent.Add(ttl - ttl/5)
	}
}

// expire ends the lease and starts a new incarnation if the lease has run
// out. It reports whether it did.
func (l *lease) expire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until.IsZero() || time.Now().Before(l.until) {
		return false
	}
	l.until = time.Time{}
	l.inc = newIncarnation()
	return true
}

// runHeartbeat renews the node lease every LeaseTTL/3. A node whose lease ran
// out (Redis unreachable, or the process paused past its TTL) steps down from
// every session at once and comes back under a new incarnation, so its old
// sessions look dead to the region and are taken over, by it or by a peer.
func (s *Server) runHeartbeat(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer tick.Stop()
	fails := 0
	for {
		if s.lease.expire() {
			s.stepDownAll("node lease expired")
		}
		inc := s.lease.incarnation()
		sent := time.Now()
		err := s.cfg.Directory.Heartbeat(ctx, s.cfg.NodeID, s.cfg.Region, inc, s.cfg.LeaseTTL)
		switch {
		case err == nil:
			s.lease.renewed(inc, sent, s.cfg.LeaseTTL)
			fails = 0
		case ctx.Err() != nil:
			return nil
		default:
			if fails++; fails == 1 || fails%20 == 0 {
				s.log.Warn("node lease renewal failed", "err", err, "fails", fails)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// stepDownAll drops every session this node holds: it stops acting for them
// at once. Their leases stay in Redis under the old incarnation, which is
// dead, so the claim loops of the region (this node's included) take them
// over with a new epoch.
func (s *Server) stepDownAll(why string) {
	n := 0
	for _, e := range s.reg.all() {
		e.mu.Lock()
		if !e.gone {
			s.drop(e)
			n++
		}
		e.mu.Unlock()
	}
	s.metrics.leaseLosses.Add(float64(n))
	s.log.Warn("stepped down from every session", "reason", why, "sessions", n)
}

// drop forgets e: no timers, no index entries. Lock held on entry.
func (s *Server) drop(e *entry) {
	e.gone = true
	s.reg.remove(e)
	s.timers.disarm(e.sess.ID)
	s.metrics.sessions.Dec()
}

// errLeaseLost answers requests while this node may not act.
var errLeaseLost = errors.New("home: node lease lost")
