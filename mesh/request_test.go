package mesh_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

// rawLink dials home as the edge identity and completes the hellos with
// features, returning the connection: a peer whose streams the test writes
// by hand.
func rawLink(t *testing.T, home *mesh.Node, ids map[string]*pki.Identity, features ...string) *quic.Conn {
	t.Helper()
	return rawLinkAs(t, home, ids["edge"], "asia", nil, features...)
}

// ask writes one request on s and reads its answer.
func ask(t *testing.T, s *quic.Stream, event string) (*wire.Response, error) {
	t.Helper()
	require.NoError(t, wire.WriteFrame(s, wire.FrameRequest, &wire.Request{UserID: "u", Event: event}))
	var resp wire.Response
	err := wire.ReadFrameAs(s, wire.FrameResponse, &resp)
	return &resp, err
}

// The responder answers requests on one stream in turn, closes its side
// when the requester closes its own, and still serves a requester of an
// earlier release (one request, then its side closed) and ends a stream
// after a bad frame.
func TestResponderAnswersRequestsOnOneStream(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	conn := rawLink(t, home, ids, wire.FeatureStateDocs, wire.FeatureReusedStreams)
	ctx := t.Context()

	t.Run("reused", func(t *testing.T) {
		s, err := conn.OpenStreamSync(ctx)
		require.NoError(t, err)
		for i := range 3 {
			resp, err := ask(t, s, fmt.Sprint("court:e", i))
			require.NoError(t, err)
			require.JSONEq(t, fmt.Sprintf(`{"ok":true,"event":"court:e%d"}`, i), string(resp.Ack))
		}
		require.NoError(t, s.Close())
		_, err = s.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF, "the responder closes its side after the requester's")
	})
	t.Run("one request, as an earlier release", func(t *testing.T) {
		s, err := conn.OpenStreamSync(ctx)
		require.NoError(t, err)
		require.NoError(t, wire.WriteFrame(s, wire.FrameRequest, &wire.Request{UserID: "u", Event: "court:old"}))
		require.NoError(t, s.Close())
		var resp wire.Response
		require.NoError(t, wire.ReadFrameAs(s, wire.FrameResponse, &resp))
		require.JSONEq(t, `{"ok":true,"event":"court:old"}`, string(resp.Ack))
		_, err = s.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
	})
	t.Run("bad frame ends the stream", func(t *testing.T) {
		s, err := conn.OpenStreamSync(ctx)
		require.NoError(t, err)
		_, err = ask(t, s, "court:before")
		require.NoError(t, err)
		require.NoError(t, wire.WriteFrame(s, wire.FramePing, &wire.Ping{Nonce: 1}))
		var werr *wire.Error
		require.ErrorAs(t, wire.ReadFrameAs(s, wire.FrameResponse, &wire.Response{}), &werr)
		require.Equal(t, wire.CodeBadFrame, werr.Code)
		_, err = s.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
	})
}

// A request whose caller gave up is not answered to a later request: the
// stream it used is not reused, and the answer written after it is lost.
func TestAbandonedRequestsAnswerIsNotReused(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	started, release := make(chan struct{}), make(chan struct{})
	homeH := &recorder{respond: func(_ context.Context, _ mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
		if req.Event == "court:slow" {
			close(started)
			<-release
			return &wire.Response{Ack: json.RawMessage(`{"stale":true}`)}, nil
		}
		return &wire.Response{Ack: json.RawMessage(fmt.Sprintf(`{"event":%q}`, req.Event))}, nil
	}}
	home := startHome(t, ids["home"], "127.0.0.1:0", homeH)
	edge := startEdge(t, ids["edge"], home, &recorder{})
	for i := range 3 { // streams to reuse
		_, err := edge.Request(t.Context(), "home", &wire.Request{Event: fmt.Sprint("court:warm", i)})
		require.NoError(t, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	slow := make(chan error, 1)
	go func() {
		_, err := edge.Request(ctx, "home", &wire.Request{Event: "court:slow"})
		slow <- err
	}()
	<-started
	cancel()
	require.ErrorIs(t, <-slow, context.Canceled)
	close(release)
	for i := range 10 {
		resp, err := edge.Request(t.Context(), "home", &wire.Request{Event: fmt.Sprint("court:next", i)})
		require.NoError(t, err)
		require.JSONEq(t, fmt.Sprintf(`{"event":"court:next%d"}`, i), string(resp.Ack))
	}
}

// Concurrent requests on reused streams each get their own answer.
func TestConcurrentRequestsGetTheirOwnAnswers(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	edge := startEdge(t, ids["edge"], home, &recorder{})
	const callers, rounds = 50, 20
	errc := make(chan error, callers)
	for c := range callers {
		go func() {
			for r := range rounds {
				event := fmt.Sprintf("court:c%d-r%d", c, r)
				resp, err := edge.Request(t.Context(), "home", &wire.Request{Event: event})
				if err == nil && string(resp.Ack) != fmt.Sprintf(`{"ok":true,"event":%q}`, event) {
					err = fmt.Errorf("%s answered with %s", event, resp.Ack)
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	var errs []error
	for range callers {
		errs = append(errs, <-errc)
	}
	require.NoError(t, errors.Join(errs...))
}

// A requester whose peer does not name wire.FeatureReusedStreams (a home of
// an earlier release) sends one request per stream and closes its side
// after it, as that peer waits for.
func TestRequesterKeepsOneRequestPerStreamForAnEarlierPeer(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	ln, err := quic.ListenAddr("127.0.0.1:0", ids["home"].ServerTLS(), &quic.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	served := make(chan error, 1)
	go func() { served <- serveAsEarlierHome(t, ln, 3) }()

	cfg := nodeConfig(t, ids["edge"], "asia", wire.RoleEdge, &recorder{})
	cfg.Peers = []mesh.Peer{{NodeID: "home", Region: "us", Addr: ln.Addr().String()}}
	edge := startNode(t, cfg)
	for i := range 3 {
		resp, err := edge.Request(t.Context(), "home", &wire.Request{Event: fmt.Sprint("court:e", i)})
		if err != nil {
			select {
			case serr := <-served:
				t.Fatalf("request %d: %v (the earlier home: %v)", i, err, serr)
			default:
				t.Fatalf("request %d: %v", i, err)
			}
		}
		require.Equal(t, fmt.Sprintf(`{"event":"court:e%d"}`, i), string(resp.Ack))
	}
	require.NoError(t, <-served)
}

// serveAsEarlierHome accepts one link as a home whose hello names no
// features and answers n requests as such a home did: read the request,
// require the requester's FIN after it, answer, close. The link stays up
// until the test ends.
func serveAsEarlierHome(t *testing.T, ln *quic.Listener, n int) error {
	ctx := t.Context()
	conn, err := ln.Accept(ctx)
	if err != nil {
		return err
	}
	t.Cleanup(func() { _ = conn.CloseWithError(0, "") })
	ctrl, err := conn.AcceptStream(ctx)
	if err != nil {
		return err
	}
	var h wire.Hello
	if err := wire.ReadFrameAs(ctrl, wire.FrameHello, &h); err != nil {
		return err
	}
	if err := wire.WriteFrame(ctrl, wire.FrameHello, &wire.Hello{Version: wire.ProtocolVersion, NodeID: "home", Region: "us", Role: wire.RoleHome}); err != nil {
		return err
	}
	for range n {
		s, err := conn.AcceptStream(ctx)
		if err != nil {
			return err
		}
		_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
		var req wire.Request
		if err := wire.ReadFrameAs(s, wire.FrameRequest, &req); err != nil {
			return err
		}
		if _, err := s.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			return fmt.Errorf("request %s: want the requester's FIN after it, got %v", req.Event, err)
		}
		if err := wire.WriteFrame(s, wire.FrameResponse, &wire.Response{Ack: json.RawMessage(fmt.Sprintf(`{"event":%q}`, req.Event))}); err != nil {
			return err
		}
		_ = s.Close()
	}
	return nil
}
