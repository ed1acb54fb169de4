package mesh

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"runtime/debug"
	"sync"

	"github.com/quic-go/quic-go"

	"courtmesh/mesh/wire"
)

// eventQueueLen bounds each flow's queue of events waiting to be written.
// Tests shorten it through export_test.go.
var eventQueueLen = 1024

// SendEvent queues ev for node nodeID without blocking. Events with the same
// SessionID (or, without one, the same UserID) share one flow and arrive in
// the order they were queued; other flows do not wait for them. It returns
// ErrQueueFull if the flow's queue is full, and a *wire.Error with
// CodeUnavailable (Temporary) if the link is down; the event is dropped in
// both cases. Events still queued when a link closes are lost.
func (n *Node) SendEvent(nodeID string, ev *wire.Event) error {
	l := n.upLink(nodeID)
	if l == nil {
		n.m.dropped(dropLinkDown)
		return unavailable(nodeID, "link down")
	}
	frame, err := l.appendFrame(takeFrame(), wire.FrameEvent, ev)
	if errors.Is(err, wire.ErrFrameTooLarge) {
		return fmt.Errorf("mesh event for %s: %w", nodeID, err)
	}
	if err != nil {
		return fmt.Errorf("encode mesh event: %w", err)
	}
	flow := l.flows[flowOf(ev)]
	select {
	case flow <- frame:
		n.m.depth.Observe(float64(len(flow)))
		return nil
	default:
		giveFrame(frame)
		n.m.dropped(dropQueueFull)
		return ErrQueueFull
	}
}

// frameBufs holds the buffers of encoded frames: SendEvent encodes into
// one, writeFlow gives it back once the frame is written or copied into its
// batch; an answer's is given back once written. A frame still queued when
// its link closes is left to the collector.
var frameBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledFrame bounds the buffers frameBufs keeps: a rare whole
// document of a large session does not stay held.
const maxPooledFrame = 128 << 10

// appendFrame appends the frame of type t with body v to dst (empty, from
// takeFrame), compressed if the link compresses frames of its size (a
// request, response or event; never an error).
func (l *link) appendFrame(dst []byte, t wire.FrameType, v any) ([]byte, error) {
	frame, err := wire.AppendFrame(dst, t, v)
	if err != nil || t == wire.FrameError || !l.compressTo(len(frame)) {
		return frame, err
	}
	z, ok := compressFrame(takeFrame(), frame)
	if !ok {
		giveFrame(z)
		return frame, nil
	}
	l.n.m.compressed(len(frame), len(z))
	giveFrame(frame)
	return z, nil
}

func takeFrame() []byte { return (*frameBufs.Get().(*[]byte))[:0] }

// giveFrame hands frame's buffer back to frameBufs; the caller does
// not touch frame again.
func giveFrame(frame []byte) {
	if cap(frame) == 0 || cap(frame) > maxPooledFrame {
		return
	}
	frameBufs.Put(&frame)
}

// flowOf picks the flow of an event by its session, or by its user for
// events outside a session.
func flowOf(ev *wire.Event) int {
	key := ev.SessionID
	if key == "" {
		key = ev.UserID
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % wire.EventFlows)
}

// flowBatch bounds the bytes of queued event frames writeFlow copies into
// one stream write.
const flowBatch = 64 << 10

// writeFlow writes one flow's queued event frames on its own
// unidirectional stream, opened with the first event. The frames queued
// behind the one it takes go in the same write, up to flowBatch bytes: one
// wake-up of the connection's sender and fuller packets for a burst, the
// same bytes in the same order on the stream.
func (l *link) writeFlow(queue chan []byte) error {
	var s *quic.SendStream
	var batch []byte
	for {
		var frame []byte
		select {
		case <-l.ctx.Done():
			return nil
		case frame = <-queue:
		}
		if s == nil {
			var err error
			if s, err = l.conn.OpenUniStreamSync(l.ctx); err != nil {
				l.fail(closeProtocol, fmt.Errorf("open event flow: %w", err))
				return nil
			}
		}
		batch = appendQueued(batch[:0], frame, queue)
		if len(batch) > 0 {
			giveFrame(frame) // copied into batch
			frame = batch
		}
		_, err := s.Write(frame)
		if len(batch) == 0 {
			giveFrame(frame) // written: quic-go keeps no reference to it
		}
		if err != nil {
			l.fail(closeProtocol, fmt.Errorf("write event: %w", err))
			return nil
		}
		if cap(batch) > flowBatch {
			batch = nil // a rare big batch does not stay held
		}
	}
}

// appendQueued appends first and then the frames waiting in queue to batch
// (empty), while it holds less than flowBatch bytes. It leaves batch empty
// if nothing was waiting: first is then written as it is, without a copy.
func appendQueued(batch, first []byte, queue chan []byte) []byte {
	for size := len(first); size < flowBatch; size = len(batch) {
		select {
		case next := <-queue:
			if len(batch) == 0 {
				batch = append(batch, first...)
			}
			batch = append(batch, next...)
			giveFrame(next)
		default:
			return batch
		}
	}
	return batch
}

// acceptFlows accepts the peer's event flows and reads each in its own
// goroutine.
func (l *link) acceptFlows() error {
	for {
		s, err := l.conn.AcceptUniStream(l.ctx)
		if err != nil {
			l.fail(closeProtocol, fmt.Errorf("accept event flow: %w", err))
			return nil
		}
		l.g.Go(func() error {
			l.readFlow(s)
			return nil
		})
	}
}

// readFlow passes a flow's events to the handler, in order. A bad frame
// closes the link: the peer is broken.
func (l *link) readFlow(s *quic.ReceiveStream) {
	for {
		t, body, err := readFrame(s)
		if errors.Is(err, io.EOF) {
			return
		}
		if errors.Is(err, errCorrupt) {
			// The stream's framing is intact: this event alone is lost, as
			// one dropped before sending would be.
			l.n.m.dropped(dropCorrupt)
			l.log.Warn("dropped a corrupt compressed mesh event", "err", err)
			continue
		}
		if err != nil {
			l.fail(closeProtocol, fmt.Errorf("read event flow: %w", err))
			return
		}
		var ev wire.Event
		if err := wire.DecodeBody(t, body, wire.FrameEvent, &ev); err != nil {
			l.fail(closeProtocol, fmt.Errorf("event flow: %w", err))
			return
		}
		l.handleEvent(&ev)
	}
}

// handleEvent calls the handler, logging a panic instead of crashing, as
// for requests.
func (l *link) handleEvent(ev *wire.Event) {
	defer func() {
		if p := recover(); p != nil {
			l.log.Error("mesh event handler panicked", "event", ev.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	l.n.cfg.Handler.HandleEvent(l.peer, ev)
}
