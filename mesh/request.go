package mesh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/quic-go/quic-go"

	"courtmesh/mesh/wire"
)

// errRequestTimeout is the cause of a request context that ran out of
// RequestTimeout.
var errRequestTimeout = errors.New("mesh: request timeout")

// Request sends req to node nodeID on a stream of its own (a new one, or one
// an earlier request left idle) and returns the response. It is bounded by
// RequestTimeout and by ctx. Failures are *wire.Error values:
// CodeUnavailable (Temporary) when the link to nodeID is down, unknown or
// lost during the request; CodeShuttingDown when this node
// is draining; CodeRequestTimeout (Temporary) after RequestTimeout; and the
// responder's own *wire.Error. Only the end of ctx (its cause, wrapped) and
// a request that cannot be encoded or exceeds wire.MaxFrameSize are
// reported otherwise. Match codes with errors.As.
func (n *Node) Request(ctx context.Context, nodeID string, req *wire.Request) (*wire.Response, error) {
	resp, err := n.request(ctx, nodeID, req)
	n.m.request(err)
	return resp, err
}

func (n *Node) request(ctx context.Context, nodeID string, req *wire.Request) (*wire.Response, error) {
	if n.drainCtx.Err() != nil {
		return nil, &wire.Error{Code: wire.CodeShuttingDown, Reason: "node " + n.cfg.NodeID + " is shutting down", Temporary: true}
	}
	l := n.upLink(nodeID)
	if l == nil || !l.beginRequest() {
		return nil, unavailable(nodeID, "link down")
	}
	defer l.reqs.Done()
	return l.request(ctx, req)
}

func unavailable(nodeID, why string) *wire.Error {
	return &wire.Error{Code: wire.CodeUnavailable, Reason: fmt.Sprintf("node %s: %s", nodeID, why), Temporary: true}
}

func (l *link) request(parent context.Context, req *wire.Request) (*wire.Response, error) {
	frame, err := l.appendFrame(nil, wire.FrameRequest, req)
	if errors.Is(err, wire.ErrFrameTooLarge) {
		return nil, fmt.Errorf("mesh request to %s: %w", l.peer.NodeID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("encode mesh request: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(parent, l.n.cfg.RequestTimeout, errRequestTimeout)
	defer cancel()
	s, err := l.requestStream(ctx)
	if err != nil {
		return nil, l.requestErr(ctx, err)
	}
	stop := context.AfterFunc(ctx, func() { cancelStream(s) })
	if _, err := s.Write(frame); err != nil {
		stop()
		cancelStream(s)
		return nil, l.requestErr(ctx, err)
	}
	if !l.reuse {
		_ = s.Close() // our side is done; the response follows
	}
	var resp wire.Response
	err = readFrameAs(s, wire.FrameResponse, &resp)
	if errors.Is(err, errCorrupt) {
		err = &wire.Error{Code: wire.CodeBadFrame, Reason: err.Error()} // the stream is not reused
	}
	if err == nil && !l.reuse {
		err = expectEOF(s)
	}
	var werr *wire.Error
	switch {
	case errors.As(err, &werr):
		if !l.reuse {
			s.CancelRead(streamCanceled) // the answer is all we read
		}
		l.release(s, stop() && werr.Code != wire.CodeBadFrame)
		return nil, werr
	case err != nil:
		stop()
		cancelStream(s)
		return nil, l.requestErr(ctx, err)
	}
	l.release(s, stop())
	return &resp, nil
}

// maxIdleStreams bounds the request streams a link keeps between requests:
// as many as its requests in flight at their busiest, up to this.
const maxIdleStreams = 64

// requestStream returns a stream for one request: an idle one, or a new one.
func (l *link) requestStream(ctx context.Context) (*quic.Stream, error) {
	l.idleMu.Lock()
	if n := len(l.idle); n > 0 {
		s := l.idle[n-1]
		l.idle = l.idle[:n-1]
		l.idleMu.Unlock()
		return s, nil
	}
	l.idleMu.Unlock()
	return l.conn.OpenStreamSync(ctx)
}

// release ends a request's use of s, which was answered. To a peer that
// takes reused streams it goes back for a later request if it is intact
// (the request's context did not cancel it, the answer was not a bad
// frame), unless enough are idle: then our side ends and the peer closes
// its own. To another peer the stream ended with the answer.
func (l *link) release(s *quic.Stream, intact bool) {
	switch {
	case !l.reuse:
	case !intact:
		cancelStream(s)
	default:
		l.idleMu.Lock()
		if len(l.idle) < maxIdleStreams {
			l.idle = append(l.idle, s)
			s = nil
		}
		l.idleMu.Unlock()
		if s != nil {
			_ = s.Close()
		}
	}
}

// requestErr explains why a request failed.
func (l *link) requestErr(ctx context.Context, err error) error {
	switch {
	case errors.Is(context.Cause(ctx), errRequestTimeout):
		return &wire.Error{Code: wire.CodeRequestTimeout, Reason: fmt.Sprintf("node %s: no response within %v", l.peer.NodeID, l.n.cfg.RequestTimeout), Temporary: true}
	case ctx.Err() != nil:
		return fmt.Errorf("mesh request to %s: %w", l.peer.NodeID, context.Cause(ctx))
	}
	return unavailable(l.peer.NodeID, err.Error())
}

func cancelStream(s *quic.Stream) {
	s.CancelRead(streamCanceled)
	s.CancelWrite(streamCanceled)
}

// expectEOF reads the end of a stream that must carry no more frames.
func expectEOF(r io.Reader) error {
	var b [1]byte
	for range 100 { // a Read may return 0, nil; a few times at most
		n, err := r.Read(b[:])
		switch {
		case n > 0:
			return errors.New("wire: data after the last frame")
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
	return io.ErrNoProgress
}

// acceptRequests accepts the peer's request streams and serves each in its
// own goroutine.
func (l *link) acceptRequests() error {
	for {
		s, err := l.conn.AcceptStream(l.ctx)
		if err != nil {
			l.fail(closeProtocol, fmt.Errorf("accept stream: %w", err))
			return nil
		}
		l.g.Go(func() error {
			for l.serveRequest(s) {
			}
			return nil
		})
	}
}

// serveRequest reads one request, passes it to the handler and writes the
// answer: FrameResponse, or FrameError. It reports whether the stream may
// carry another request. The stream ends when the requester ends its side
// (every request of a peer without wire.FeatureReusedStreams does); a bad
// frame or the request timeout ends it too. Waiting for a request is not
// bounded (an idle stream of a reusing peer); reading one once its first
// byte arrived, handling it and writing the answer are, by RequestTimeout.
func (l *link) serveRequest(s *quic.Stream) bool {
	var first [1]byte
	if _, err := io.ReadFull(s, first[:]); err != nil {
		if errors.Is(err, io.EOF) {
			_ = s.Close() // the requester is done with the stream
		} else {
			cancelStream(s)
		}
		return false
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.n.cfg.RequestTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { cancelStream(s) })
	defer stop()
	var req wire.Request
	err := readFrameAs(io.MultiReader(bytes.NewReader(first[:]), s), wire.FrameRequest, &req)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		l.log.Debug("bad mesh request stream", "err", err)
		if l.answer(s, wire.FrameError, &wire.Error{Code: wire.CodeBadFrame, Reason: err.Error()}) {
			_ = s.Close()
			s.CancelRead(streamCanceled)
		}
		return false
	}
	resp, err := l.handle(ctx, &req)
	if err != nil {
		return l.answer(s, wire.FrameError, toWireError(err)) && stop()
	}
	return l.answer(s, wire.FrameResponse, resp) && stop()
}

// answer writes one answer; it reports whether it was written.
func (l *link) answer(s *quic.Stream, t wire.FrameType, v any) bool {
	_ = s.SetWriteDeadline(time.Now().Add(l.n.cfg.RequestTimeout))
	frame, err := l.appendFrame(takeFrame(), t, v)
	if err == nil {
		_, err = s.Write(frame)
		giveFrame(frame) // quic-go keeps no reference to it
	}
	if err != nil {
		l.log.Debug("write mesh answer", "err", err)
		cancelStream(s)
		return false
	}
	return true
}

// handle calls the handler, turning a panic into an internal error so that
// one bad request cannot take the node down.
func (l *link) handle(ctx context.Context, req *wire.Request) (resp *wire.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			l.log.Error("mesh request handler panicked", "event", req.Event, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, &wire.Error{Code: wire.CodeInternal, Reason: "handler panicked"}
		}
	}()
	resp, err = l.n.cfg.Handler.HandleRequest(ctx, l.peer, req)
	if err == nil && resp == nil {
		err = errors.New("handler returned no response")
	}
	return resp, err
}

func toWireError(err error) *wire.Error {
	var werr *wire.Error
	if errors.As(err, &werr) {
		return werr
	}
	return &wire.Error{Code: wire.CodeInternal, Reason: err.Error()}
}
