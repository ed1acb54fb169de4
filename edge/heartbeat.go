package edge

import "time"

// The heartbeat is one timer per socket. It fires PingInterval after the
// socket opened or its last pong, sends a ping, and is re-armed for
// PingTimeout; if it fires again before a pong, the socket is closed.

func (c *conn) startHeartbeat() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.timer = time.AfterFunc(c.s.cfg.PingInterval, c.onTimer)
	}
}

func (c *conn) onTimer() {
	c.mu.Lock()
	var reason closeReason
	switch {
	case c.closed:
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
	c.timer.Reset(c.s.cfg.PingTimeout)
	start, ok := c.enqueueLocked(pingFrame)
	c.mu.Unlock()
	c.afterEnqueue(start, ok)
}

func (c *conn) onPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.awaitPong && !c.closed {
		c.awaitPong = false
		c.timer.Reset(c.s.cfg.PingInterval)
	}
}
