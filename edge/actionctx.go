package edge

import "context"

// beginAction returns the context of one action, done after RequestTimeout
// or when the socket closes, and the function that ends the action. The
// socket holds a cancelable context only while actions are in flight: a
// context that once had children keeps a map for them, about 1 KiB per idle
// socket in all (README.md).
func (c *conn) beginAction() (context.Context, func()) {
	c.mu.Lock()
	if c.actx == nil {
		c.actx, c.acancel = context.WithCancel(c.s.base)
		if c.closed {
			c.acancel()
		}
	}
	c.nact++
	parent := c.actx
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(parent, c.s.cfg.RequestTimeout)
	return ctx, func() {
		cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
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
