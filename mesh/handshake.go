package mesh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/quic-go/quic-go"

	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

// errSelfConnect means a peer address led back to this node.
var errSelfConnect = errors.New("mesh: detected self-connect")

func (n *Node) hello() *wire.Hello {
	return &wire.Hello{Version: wire.ProtocolVersion, NodeID: n.cfg.NodeID, Region: n.cfg.Region, Role: n.cfg.Role,
		Features: []string{wire.FeatureStateDocs, wire.FeatureReusedStreams, wire.FeatureZstd, wire.FeatureDocAcks}}
}

// peerOf is the peer a checked hello names.
func peerOf(h *wire.Hello) PeerInfo {
	return PeerInfo{NodeID: h.NodeID, Region: h.Region, Role: h.Role, StateDocs: slices.Contains(h.Features, wire.FeatureStateDocs),
		DocAcks: slices.Contains(h.Features, wire.FeatureDocAcks)}
}

// checkHello checks a peer's hello against what its certificate claims (id,
// role, region), the revocation list, and the link this node may have with
// a peer of that role: edges link to homes only.
func (n *Node) checkHello(ctx context.Context, h *wire.Hello, cert pki.Claims) *wire.Error {
	switch {
	case h.Version != wire.ProtocolVersion:
		return &wire.Error{Code: wire.CodeVersion, Reason: fmt.Sprintf("protocol version %d, want %d", h.Version, wire.ProtocolVersion)}
	case !validRole(h.Role):
		return &wire.Error{Code: wire.CodeBadFrame, Reason: fmt.Sprintf("unknown role %q", h.Role)}
	case h.NodeID != cert.ID:
		return &wire.Error{Code: wire.CodeIdentity, Reason: fmt.Sprintf("hello names node %q but the certificate names %q", h.NodeID, cert.ID)}
	case h.Role != cert.Role || h.Region != cert.Region:
		return &wire.Error{Code: wire.CodeIdentity, Reason: fmt.Sprintf("hello claims %s but the certificate is for %s",
			pki.Claims{ID: h.NodeID, Role: h.Role, Region: h.Region}, cert)}
	case h.NodeID == n.cfg.NodeID:
		return &wire.Error{Code: wire.CodeIdentity, Reason: "self-connect"}
	case n.cfg.Role == wire.RoleEdge && h.Role == wire.RoleEdge:
		return &wire.Error{Code: wire.CodeIdentity, Reason: "edges link to homes only"}
	case n.revoked(ctx, h.NodeID):
		return &wire.Error{Code: wire.CodeIdentity, Reason: fmt.Sprintf("node %s is revoked", h.NodeID)}
	}
	return nil
}

// meshClaims returns the claims of a peer's certificate, which must be a
// node's: operators administer, they never join the mesh.
func meshClaims(conn *quic.Conn) (pki.Claims, error) {
	c, err := pki.PeerClaims(conn.ConnectionState().TLS)
	if err != nil {
		return pki.Claims{}, &closeCause{code: closeRefused, reason: err.Error()}
	}
	if !validRole(c.Role) {
		return pki.Claims{}, &closeCause{code: closeRefused, reason: c.String() + " cannot join the mesh"}
	}
	return c, nil
}

// acceptHello runs the acceptor's side of the hellos on a new connection:
// read the dialer's hello on the first stream, check it, answer with ours.
func (r *runner) acceptHello(ctx context.Context, conn *quic.Conn) (*link, error) {
	n := r.n
	cert, err := meshClaims(conn)
	if err != nil {
		return nil, err
	}
	certID := cert.ID
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
	if werr := n.checkHello(ctx, &h, cert); werr != nil {
		n.refuse(ctx, conn, ctrl, werr)
		return nil, fmt.Errorf("refused hello of %s: %w", certID, werr)
	}
	if err := wire.WriteFrame(ctrl, wire.FrameHello, n.hello()); err != nil {
		return nil, fmt.Errorf("write hello: %w", err)
	}
	_ = ctrl.SetDeadline(time.Time{})
	return newLink(n, r.runCtx, conn, ctrl, &h, false), nil
}

// dialHello runs the dialer's side of the hellos on a new connection to p:
// check the certificate names p, open the control stream, send our hello,
// read and check the answer.
func (r *runner) dialHello(ctx context.Context, conn *quic.Conn, p Peer) (*link, error) {
	n := r.n
	cert, err := meshClaims(conn)
	certID := cert.ID
	switch {
	case err != nil:
		return nil, err
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
	if werr := n.checkHello(ctx, &h, cert); werr != nil {
		n.refuse(ctx, conn, ctrl, werr)
		return nil, fmt.Errorf("refused hello of %s: %w", p.NodeID, werr)
	}
	_ = ctrl.SetDeadline(time.Time{})
	return newLink(n, r.runCtx, conn, ctrl, &h, true), nil
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
