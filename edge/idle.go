package edge

import (
	"bufio"
	"net"
	"net/http"
	"sync"
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
//
// A parked socket holds no read buffer either. Gorilla keeps a pointer to
// that bufio.Reader, so the edge cannot swap it, but it can swap what it
// holds: the reader's buffer is borrowed from readBuffers (its whole value
// copied in from a pooled reader) while a reader runs, and given back when
// the socket parks, which leaves gorilla's reader empty (a zero
// bufio.Reader) until the next reader borrows again. The buffer is empty
// then, so nothing is lost. An idle socket keeps 96 bytes of the 384.

// readBuffers holds bufio.Readers of readBufferSize whose buffers sockets
// borrow while they have a reader.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// borrowReadBuffer makes br read from nc through a pooled buffer, and
// returns the pooled reader that owns the buffer, for giveBackReadBuffer.
func borrowReadBuffer(br *bufio.Reader, nc net.Conn) (lent *bufio.Reader) {
	lent = readBuffers.Get().(*bufio.Reader)
	lent.Reset(nc)
	*br = *lent
	return lent
}

// giveBackReadBuffer returns the buffer br borrowed from lent, and leaves
// br empty. br's buffer must be empty, and br must not be read until it
// borrows again.
func giveBackReadBuffer(br, lent *bufio.Reader) {
	*br = bufio.Reader{}
	lent.Reset(nil)
	readBuffers.Put(lent)
}

// hijackWriter hijacks through the wrapped ResponseWriter and replaces the
// connection's read buffer with br, which reads through lent's buffer.
type hijackWriter struct {
	http.ResponseWriter
	br, lent *bufio.Reader // set by Hijack
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // gorilla refuses data sent before the handshake
	}
	h.br = new(bufio.Reader)
	h.lent = borrowReadBuffer(h.br, nc)
	return nc, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// read reads and handles messages until the read buffer is empty and the
// socket could be parked, or until the socket ends; then it finishes it.
func (c *conn) read() {
	if c.lent == nil { // woken from the poller
		c.lent = borrowReadBuffer(c.br, c.ws.NetConn())
	}
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

// park arms the socket in the poller, gives its read buffer back, and
// reports whether it did; then the caller must not read the socket any
// more. A closed socket is not parked. The read buffer must be empty.
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
	giveBackReadBuffer(c.br, c.lent) // before wake can start a reader: it takes c.mu
	c.lent = nil
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
