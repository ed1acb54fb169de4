package mesh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

// errSelfConnect means a peer address led back to this node.
var errSelfConnect = errors.New("mesh: detected self-connect")

func (n *Node) hello() *wire.Hello {
	return &wire.Hello{Version: wire.ProtocolVersion, NodeID: n.cfg.NodeID, Region: n.cfg.Region, Role: n.cfg.Role}
}

// checkHello checks a peer's hello against the node id its certificate
// names.
func (n *Node) checkHello(h *wire.Hello, certID string) *wire.Error {
	switch {
	case h.Version != wire.ProtocolVersion:
		return &wire.Error{Code: wire.CodeVersion, Reason: fmt.Sprintf("protocol version %d, want %d", h.Version, wire.ProtocolVersion)}
	case h.NodeID != certID:
		return &wire.Error{Code: wire.CodeIdentity, Reason: fmt.Sprintf("hello names node %q but the certificate names %q", h.NodeID, certID)}
	case h.NodeID == n.cfg.NodeID:
		return &wire.Error{Code: wire.CodeIdentity, Reason: "self-connect"}
	case !validRole(h.Role):
		return &wire.Error{Code: wire.CodeBadFrame, Reason: fmt.Sprintf("unknown role %q", h.Role)}
	}
	return nil
}

// acceptHello runs the acceptor's side of the hellos on a new connection:
// read the dialer's hello on the first stream, check it, answer with ours.
func (r *runner) acceptHello(ctx context.Context, conn *quic.Conn) (*link, error) {
	n := r.n
	certID, err := pki.PeerNodeID(conn.ConnectionState().TLS)
	if err != nil {
		return nil, &closeCause{code: closeRefused, reason: err.Error()}
	}
	ctrl, err := conn.AcceptStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept control stream: %w", err)
	}
	setDeadline(ctx, ctrl)
	var h wire.Hello
	if err := wire.ReadFrameAs(ctrl, wire.FrameHello, &h); err != nil {
		n.refuse(ctx, conn, ctrl, &wire.Error{Code: wire.CodeBadFrame, Reason: err.Error()})
		return nil, fmt.Errorf("read hello of %s: %w", certID, err)
	}
	if werr := n.checkHello(&h, certID); werr != nil {
		n.refuse(ctx, conn, ctrl, werr)
		return nil, fmt.Errorf("refused hello of %s: %w", certID, werr)
	}
	if err := wire.WriteFrame(ctrl, wire.FrameHello, n.hello()); err != nil {
		return nil, fmt.Errorf("write hello: %w", err)
	}
	_ = ctrl.SetDeadline(time.Time{})
	return newLink(n, r.runCtx, conn, ctrl, PeerInfo{NodeID: h.NodeID, Region: h.Region, Role: h.Role}, false), nil
}

// dialHello runs the dialer's side of the hellos on a new connection to p:
// check the certificate names p, open the control stream, send our hello,
// read and check the answer.
func (r *runner) dialHello(ctx context.Context, conn *quic.Conn, p Peer) (*link, error) {
	n := r.n
	certID, err := pki.PeerNodeID(conn.ConnectionState().TLS)
	switch {
	case err != nil:
		return nil, &closeCause{code: closeRefused, reason: err.Error()}
	case certID == n.cfg.NodeID:
		return nil, errSelfConnect
	case certID != p.NodeID:
		return nil, &closeCause{code: closeRefused, reason: fmt.Sprintf("%s answered as node %q", p.Addr, certID)}
	}
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("open control stream: %w", err)
	}
	setDeadline(ctx, ctrl)
	if err := wire.WriteFrame(ctrl, wire.FrameHello, n.hello()); err != nil {
		return nil, fmt.Errorf("write hello: %w", err)
	}
	var h wire.Hello
	if err := wire.ReadFrameAs(ctrl, wire.FrameHello, &h); err != nil {
		return nil, fmt.Errorf("read hello of %s: %w", p.NodeID, err)
	}
	if werr := n.checkHello(&h, certID); werr != nil {
		n.refuse(ctx, conn, ctrl, werr)
		return nil, fmt.Errorf("refused hello of %s: %w", p.NodeID, werr)
	}
	_ = ctrl.SetDeadline(time.Time{})
	return newLink(n, r.runCtx, conn, ctrl, PeerInfo{NodeID: h.NodeID, Region: h.Region, Role: h.Role}, true), nil
}

func setDeadline(ctx context.Context, s *quic.Stream) {
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
}

// refuse answers a bad hello with FrameError and closes the connection. It
// gives the peer until ctx ends to read the frame and close first, so that
// it learns why.
func (n *Node) refuse(ctx context.Context, conn *quic.Conn, ctrl *quic.Stream, werr *wire.Error) {
	if err := wire.WriteFrame(ctrl, wire.FrameError, werr); err == nil {
		_ = ctrl.Close()
		select {
		case <-conn.Context().Done():
		case <-ctx.Done():
		}
	}
	_ = conn.CloseWithError(closeRefused, werr.Error())
}

// closeConn closes a connection that never became a link.
func closeConn(conn *quic.Conn, err error) {
	var cc *closeCause
	switch {
	case errors.As(err, &cc):
		_ = conn.CloseWithError(cc.code, cc.reason)
	case errors.Is(err, errSelfConnect):
		_ = conn.CloseWithError(closeSelf, err.Error())
	default:
		_ = conn.CloseWithError(closeRefused, err.Error())
	}
}
