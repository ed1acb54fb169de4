package edge

import (
	"bufio"
	"net"
	"net/http"
)

// An idle socket has no goroutine. Once a socket's reader has handled every
// message it has, it arms the socket in the server's poller (an epoll
// instance on Linux, poll_linux.go) and exits; when the socket becomes
// readable, the poller starts a new reader. A goroutine costs at least a
// 2 KiB stack and its g, and a reader blocked in gorilla's read path keeps
// a 4 to 8 KiB stack; measured in README.md. Without a poller (other
// systems, or epoll unavailable) the reader blocks in gorilla as usual.
//
// Parking is only safe when no message already sits in the read buffer, so
// the edge owns that buffer: hijackWriter hands gorilla a bufio.Reader
// created by the edge, which gorilla reuses as its own
// (Upgrader.ReadBufferSize is 0 and the buffer is larger than 256 bytes).

// hijackWriter hijacks through the wrapped ResponseWriter and replaces the
// connection's read buffer with br.
type hijackWriter struct {
	http.ResponseWriter
	br *bufio.Reader // set by Hijack
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // gorilla refuses data sent before the handshake
	}
	h.br = bufio.NewReaderSize(nc, readBufferSize)
	return nc, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// read reads and handles messages until the read buffer is empty and the
// socket could be parked, or until the socket ends; then it finishes it.
func (c *conn) read() {
	for {
		if reason := c.readMessage(); reason != "" {
			c.close(reason)
			c.finish()
			return
		}
		if c.br.Buffered() == 0 && c.park() {
			return
		}
	}
}

// park arms the socket in the poller and reports whether it did; then the
// caller must not read the socket any more. A closed socket is not parked.
func (c *conn) park() bool {
	p := c.s.poller.Load()
	if p == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if err := p.arm(c.ws.NetConn(), c.id); err != nil {
		c.s.log.Debug("socket not parked", "conn_id", c.sid, "err", err)
		return false
	}
	c.parked = true
	return true
}

// wake starts a reader for the parked socket id. The poller calls it.
func (s *Server) wake(id uint64) {
	s.mu.RLock()
	c := s.conns[id]
	s.mu.RUnlock()
	if c == nil {
		return // closed meanwhile
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.parked {
		c.parked = false
		s.spawn(c.read)
	}
}

// finish removes the closed socket from the server and ends its count in
// s.wg (from track). It runs once: on the reader that saw the socket end,
// or, for a socket closed while parked, on a goroutine close starts.
func (c *conn) finish() {
	defer c.s.wg.Done()
	if c.s.untrack(c) {
		c.s.userGone(c.userID)
	}
}
