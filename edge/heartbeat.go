package edge

import "time"

// A socket has one timer (timers.go), for its heartbeat and its token's
// expiry (expiry.go).
//
// The heartbeat fires PingInterval after the socket opened or its last
// pong, sends a ping, and is due again PingTimeout later; if it comes due
// before a pong, the socket is closed. The timer is set for whichever of
// the heartbeat and the expiry is due first; a firing before either is due
// (the timer was set again while onTimer waited for c.mu) only sets it
// again.

// since returns the time since the server's epoch, the clock of the
// sockets' timers.
func (s *Server) since() time.Duration { return time.Since(s.epoch) }

func (c *conn) startHeartbeat() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.beatAt = c.s.since() + c.s.cfg.PingInterval
		c.armLocked()
	}
}

// armLocked sets the timer for the heartbeat or the expiry, whichever is due
// first. c.mu is held.
func (c *conn) armLocked() {
	at := c.beatAt
	if c.expireAt != 0 && c.expireAt < at {
		at = c.expireAt
	}
	c.s.timers.set(c, at)
}

func (c *conn) onTimer() {
	c.mu.Lock()
	now := c.s.since()
	var reason closeReason
	switch {
	case c.closed:
		c.mu.Unlock()
		return
	case c.expireAt != 0 && now >= c.expireAt:
		c.expireAt = 0
		c.mu.Unlock()
		c.expire()
		return
	case now < c.beatAt:
		c.armLocked()
		c.mu.Unlock()
		return
	case c.awaitPong:
		reason = reasonPingTimeout
	case !c.connected:
		reason = reasonConnectTimeout
	}
	if reason != "" {
		c.mu.Unlock()
		c.close(reason)
		return
	}
	c.awaitPong = true
	c.beatAt = now + c.s.cfg.PingTimeout
	c.armLocked()
	start, ok := c.enqueueLocked(shared(pingFrame))
	c.mu.Unlock()
	c.afterEnqueue(start, ok)
}

func (c *conn) onPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.awaitPong && !c.closed {
		c.awaitPong = false
		now := c.s.since()
		c.beatAt = now + c.s.cfg.PingInterval
		c.armLocked()
	}
}
