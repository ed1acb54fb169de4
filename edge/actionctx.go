package edge

import (
	"context"
	"time"
)

// beginAction returns the context of one action, done after RequestTimeout
// or when the socket closes, and the function that ends the action. The
// socket holds a cancelable context only while actions are in flight: a
// context that once had children keeps a map for them, about 1 KiB per idle
// socket in all (README.md).
func (c *conn) beginAction(event string) (context.Context, func()) {
	acting := event != evRegister
	c.mu.Lock()
	if c.actx == nil {
		c.actx, c.acancel = context.WithCancel(c.s.base)
		if c.closed {
			c.acancel()
		}
	}
	c.nact++
	if acting {
		c.nacting++
	}
	parent := c.actx
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(parent, c.s.cfg.RequestTimeout)
	return ctx, func() {
		cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
		if acting {
			c.nacting--
		}
		if c.nact--; c.nact == 0 {
			c.acancel()
			c.actx, c.acancel = nil, nil
		}
	}
}

// cancelActionsLocked cancels the actions in flight. c.mu is held on entry.
func (c *conn) cancelActionsLocked() {
	if c.acancel != nil {
		c.acancel()
	}
}

// othersPoll is how often waitForActions looks again.
const othersPoll = 2 * time.Millisecond

// waitForActions waits until the socket has no action in flight other than
// registers, or ctx ends; it reports whether there was one. Registers never
// wait for one another, and other actions never wait, so no two waits can
// hold each other up.
func (c *conn) waitForActions(ctx context.Context) bool {
	waited := false
	for {
		c.mu.Lock()
		n := c.nacting
		c.mu.Unlock()
		if n == 0 {
			return waited
		}
		waited = true
		select {
		case <-ctx.Done():
			return true
		case <-time.After(othersPoll):
		}
	}
}
