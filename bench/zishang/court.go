package main

import (
	"sync"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// court answers the four court events with fixed states; its only memory is
// who is paired with whom, set at serve and cleared at dismiss.
type court struct {
	io *socket.Server

	mu      sync.Mutex
	partner map[string]string
}

func newCourt(io *socket.Server) *court {
	return &court{io: io, partner: make(map[string]string)}
}

func state(phase, view string, session any) map[string]any {
	return map[string]any{"phase": phase, "myViewPhase": view, "session": session}
}

var pendingSession = map[string]any{"id": "x", "version": 1}

func (c *court) attach(s *socket.Socket) {
	user, _ := s.Data().(string)
	on := func(event string, h func(user string, payload map[string]any) map[string]any) {
		_ = s.On(event, func(args ...any) {
			var payload map[string]any
			if len(args) > 0 {
				payload, _ = args[0].(map[string]any)
			}
			resp := h(user, payload)
			if len(args) == 0 {
				return
			}
			if ack, ok := args[len(args)-1].(socket.Ack); ok {
				ack([]any{resp}, nil)
			}
		})
	}
	on("court:register", func(user string, _ map[string]any) map[string]any {
		s.Join(room(user))
		return map[string]any{"ok": true, "state": state("IDLE", "IDLE", nil)}
	})
	on("court:serve", c.serve)
	on("court:accept", c.accept)
	on("court:dismiss", c.dismiss)
}

func room(user string) socket.Room { return socket.Room("user:" + user) }

func (c *court) emit(user string, st map[string]any) {
	_ = c.io.To(room(user)).Emit("court:state", st)
}

func (c *court) serve(user string, payload map[string]any) map[string]any {
	partner, _ := payload["partnerId"].(string)
	if partner == "" || partner == user {
		return map[string]any{"ok": false, "error": map[string]any{"code": "INVALID_INPUT"}}
	}
	c.mu.Lock()
	c.partner[user], c.partner[partner] = partner, user
	c.mu.Unlock()
	c.emit(partner, state("PENDING", "PENDING_PARTNER", pendingSession))
	mine := state("PENDING", "PENDING_CREATOR", pendingSession)
	c.emit(user, mine)
	return map[string]any{"ok": true, "state": mine}
}

func (c *court) accept(user string, _ map[string]any) map[string]any {
	c.mu.Lock()
	partner, ok := c.partner[user]
	c.mu.Unlock()
	if !ok {
		return map[string]any{"ok": false, "error": map[string]any{"code": "NO_SESSION"}}
	}
	st := state("EVIDENCE", "EVIDENCE", pendingSession)
	c.emit(partner, st)
	c.emit(user, st)
	return map[string]any{"ok": true, "state": st}
}

func (c *court) dismiss(user string, _ map[string]any) map[string]any {
	c.mu.Lock()
	partner, ok := c.partner[user]
	delete(c.partner, user)
	delete(c.partner, partner)
	c.mu.Unlock()
	idle := state("IDLE", "IDLE", nil)
	if ok {
		c.emit(partner, idle)
	}
	c.emit(user, idle)
	return map[string]any{"ok": true}
}
