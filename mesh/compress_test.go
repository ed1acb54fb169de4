package mesh_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/meshtest"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
)

// bigAck is an ack of about 40 KB, as large as a court:state gets after the
// judge's analysis, of text that compresses.
func bigAck() json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"ok":true,"state":"`)
	for i := 0; b.Len() < 40<<10; i++ {
		fmt.Fprintf(&b, "repair starts with naming the feeling %d underneath the complaint ", i)
	}
	b.WriteString(`"}`)
	return json.RawMessage(b.String())
}

// readRaw reads one frame as it came on the stream; a FrameCompressed is
// decompressed here, independently of the mesh, and reported.
func readRaw(t *testing.T, s io.Reader) (wire.FrameType, []byte, bool) {
	t.Helper()
	ft, body, err := wire.ReadFrame(s)
	require.NoError(t, err)
	if ft != wire.FrameCompressed {
		return ft, body, false
	}
	dec, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer dec.Close()
	inner, err := dec.DecodeAll(body[1:], nil)
	require.NoError(t, err)
	return wire.FrameType(body[0]), inner, true
}

// compressedFrame is f (a whole plain frame) as a FrameCompressed.
func compressedFrame(t *testing.T, f []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer enc.Close()
	body := enc.EncodeAll(f[5:], []byte{f[0]})
	hdr := []byte{byte(wire.FrameCompressed), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)))
	return append(hdr, body...)
}

// Large responses and events go compressed on a long link (a simulated
// 30 ms round trip) to a peer that names wire.FeatureZstd, and plain to a
// peer of an earlier release (no such feature) or on a short link; small
// ones always go plain. Either way the peer reads the same bytes.
func TestLargeFramesCompressedOnLongLinksOnly(t *testing.T) {
	t.Parallel()
	wan := meshtest.NewNetwork(regions.Default())
	wan.SetRTTScale(0.2) // us–asia: 30 ms
	ids := identities(t, "home", "edge")
	big := bigAck()
	homeH := &recorder{respond: func(_ context.Context, _ mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
		if req.Event == "court:big" {
			return &wire.Response{Ack: big, SessionID: "s1", Version: 7}, nil
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
	}}
	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, homeH)
	hc.ListenAddr, hc.ListenPacket = "127.0.0.1:0", wan.ListenPacket("us")
	home := startNode(t, hc)
	zstdToo := []string{wire.FeatureStateDocs, wire.FeatureReusedStreams, wire.FeatureZstd}

	cases := []struct {
		name       string
		wan        *meshtest.Network
		features   []string
		compressed bool
	}{
		{"long link, zstd", wan, zstdToo, true},
		{"long link, earlier release", wan, []string{wire.FeatureStateDocs, wire.FeatureReusedStreams}, false},
		{"short link, zstd", nil, zstdToo, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := rawLinkAs(t, home, ids["edge"], "asia", c.wan, c.features...)
			s, err := conn.OpenStreamSync(t.Context())
			require.NoError(t, err)
			for _, ev := range []string{"court:small", "court:big"} {
				require.NoError(t, wire.WriteFrame(s, wire.FrameRequest, &wire.Request{UserID: "u", Event: ev}))
				ft, body, compressed := readRaw(t, s)
				require.Equal(t, wire.FrameResponse, ft)
				require.Equal(t, c.compressed && ev == "court:big", compressed, ev)
				resp, err := wire.DecodeResponse(body)
				require.NoError(t, err)
				if ev == "court:big" {
					require.Equal(t, &wire.Response{Ack: big, SessionID: "s1", Version: 7}, resp)
				}
			}

			eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))
			sent := &wire.Event{UserID: "u", Name: "court:state", Payload: big, SessionID: "s1", Version: 7}
			require.NoError(t, home.SendEvent("edge", sent))
			flow, err := conn.AcceptUniStream(t.Context())
			require.NoError(t, err)
			ft, body, compressed := readRaw(t, flow)
			require.Equal(t, wire.FrameEvent, ft)
			require.Equal(t, c.compressed, compressed)
			got, err := wire.DecodeEvent(body)
			require.NoError(t, err)
			require.Equal(t, sent, got)
			require.NoError(t, conn.CloseWithError(0, ""))
			eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", false))
		})
	}
}

// Two nodes of this release on a long link carry large requests,
// responses and events through the compressed path intact.
func TestCompressedRoundTripBetweenNodes(t *testing.T) {
	t.Parallel()
	wan := meshtest.NewNetwork(regions.Default())
	wan.SetRTTScale(0.2)
	ids := identities(t, "home", "edge")
	big := bigAck()
	homeH := &recorder{respond: func(_ context.Context, _ mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
		return &wire.Response{Ack: append(json.RawMessage(nil), req.Payload...)}, nil
	}}
	homeReg, edgeReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, homeH)
	hc.ListenAddr, hc.ListenPacket, hc.Registerer = "127.0.0.1:0", wan.ListenPacket("us"), homeReg
	home := startNode(t, hc)
	edgeH := &recorder{}
	ec := nodeConfig(t, ids["edge"], "asia", wire.RoleEdge, edgeH)
	ec.ListenPacket, ec.Registerer = wan.ListenPacket("asia"), edgeReg
	ec.Peers = []mesh.Peer{{NodeID: "home", Region: "us", Addr: home.Addr().String()}}
	edge := startNode(t, ec)
	eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))

	resp, err := edge.Request(t.Context(), "home", &wire.Request{UserID: "u", Event: "court:big", Payload: big})
	require.NoError(t, err)
	require.Equal(t, string(big), string(resp.Ack))
	require.NoError(t, home.SendEvent("edge", &wire.Event{UserID: "u", Name: "court:state", Payload: big, SessionID: "s1", Version: 1}))
	eventually(t, 2*time.Second, 5*time.Millisecond, func() error {
		if evs := edgeH.eventsOf("s1"); len(evs) != 1 || !bytes.Equal(evs[0].Payload, big) {
			return fmt.Errorf("events of s1: %d", len(evs))
		}
		return nil
	})
	for _, reg := range []*prometheus.Registry{homeReg, edgeReg} { // each sent one large frame compressed
		plain := metricValue(t, reg, "court_mesh_compressed_bytes_total", "form", "plain")
		require.Greater(t, plain, float64(len(big)))
		require.Less(t, metricValue(t, reg, "court_mesh_compressed_bytes_total", "form", "compressed"), plain/2)
	}
}

// A FrameCompressed that does not decompress is refused on its own, with
// an error that says so, and the link keeps serving: a request gets
// bad_frame and the next request its answer; an event is dropped (counted
// as corrupt) and the events behind it on its flow arrive; a response
// fails its request with bad_frame, and the next request is answered.
func TestCorruptCompressedFrameRefusedLinkKept(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	reg := prometheus.NewRegistry()
	homeH := &recorder{}
	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, homeH)
	hc.ListenAddr, hc.Registerer = "127.0.0.1:0", reg
	home := startNode(t, hc)
	conn := rawLinkAs(t, home, ids["edge"], "asia", nil, wire.FeatureStateDocs, wire.FeatureReusedStreams, wire.FeatureZstd)
	ctx := t.Context()
	plain, err := wire.EncodeFrame(wire.FrameRequest, &wire.Request{UserID: "u", Event: "court:x"})
	require.NoError(t, err)
	corrupt := compressedFrame(t, plain)
	corrupt[len(corrupt)-3] ^= 0xff // in the zstd frame's checksum or data

	t.Run("request", func(t *testing.T) {
		s, err := conn.OpenStreamSync(ctx)
		require.NoError(t, err)
		_, err = s.Write(corrupt)
		require.NoError(t, err)
		var werr *wire.Error
		require.ErrorAs(t, wire.ReadFrameAs(s, wire.FrameResponse, &wire.Response{}), &werr)
		require.Equal(t, wire.CodeBadFrame, werr.Code)
		require.Contains(t, werr.Reason, "corrupt compressed frame")

		s, err = conn.OpenStreamSync(ctx)
		require.NoError(t, err)
		_, err = s.Write(compressedFrame(t, plain))
		require.NoError(t, err)
		var resp wire.Response
		require.NoError(t, wire.ReadFrameAs(s, wire.FrameResponse, &resp))
		require.JSONEq(t, `{"ok":true,"event":"court:x"}`, string(resp.Ack))
	})

	t.Run("event", func(t *testing.T) {
		flow, err := conn.OpenUniStream()
		require.NoError(t, err)
		ev := func(version uint64) []byte {
			f, err := wire.EncodeFrame(wire.FrameEvent, &wire.Event{UserID: "u", Name: "court:state", SessionID: "s-ev", Version: version})
			require.NoError(t, err)
			return f
		}
		bad := compressedFrame(t, ev(1))
		bad[len(bad)-3] ^= 0xff
		for _, f := range [][]byte{bad, compressedFrame(t, ev(2)), ev(3)} {
			_, err = flow.Write(f)
			require.NoError(t, err)
		}
		eventually(t, 2*time.Second, 5*time.Millisecond, func() error {
			if n := len(homeH.eventsOf("s-ev")); n != 2 {
				return fmt.Errorf("%d events arrived", n)
			}
			return nil
		})
		evs := homeH.eventsOf("s-ev")
		require.Equal(t, []uint64{2, 3}, []uint64{evs[0].Version, evs[1].Version})
		require.Equal(t, 1.0, metricValue(t, reg, "court_mesh_events_dropped_total", "reason", "corrupt"))
	})

	t.Run("response", func(t *testing.T) {
		answer := func(first bool) {
			s, err := conn.AcceptStream(ctx)
			require.NoError(t, err)
			var req wire.Request
			require.NoError(t, wire.ReadFrameAs(s, wire.FrameRequest, &req))
			f, err := wire.EncodeFrame(wire.FrameResponse, &wire.Response{Ack: json.RawMessage(`{"ok":true}`)})
			require.NoError(t, err)
			f = compressedFrame(t, f)
			if first {
				f[len(f)-3] ^= 0xff
			}
			_, err = s.Write(f)
			require.NoError(t, err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := home.Request(ctx, "edge", &wire.Request{UserID: "u", Event: "court:ask"})
			errc <- err
		}()
		answer(true)
		err := <-errc
		var werr *wire.Error
		require.ErrorAs(t, err, &werr)
		require.Equal(t, wire.CodeBadFrame, werr.Code)
		require.Contains(t, werr.Reason, "corrupt compressed frame")

		go func() {
			_, err := home.Request(ctx, "edge", &wire.Request{UserID: "u", Event: "court:ask"})
			errc <- err
		}()
		answer(false)
		require.NoError(t, <-errc)
	})
	require.NoError(t, linkIs(home, "edge", true)())
}

// rawLinkAs dials home as ident, in region, and completes the hellos with
// features, returning the connection: a peer whose streams the test writes
// by hand. With wan, it dials from a socket of that simulated network.
func rawLinkAs(t *testing.T, home *mesh.Node, ident *pki.Identity, region string, wan *meshtest.Network, features ...string) *quic.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	var conn *quic.Conn
	var err error
	if wan == nil {
		conn, err = quic.DialAddr(ctx, home.Addr().String(), ident.ClientTLS(), &quic.Config{})
	} else {
		pc, lerr := wan.ListenPacket(region)("udp", "127.0.0.1:0")
		require.NoError(t, lerr)
		tr := &quic.Transport{Conn: pc}
		t.Cleanup(func() { _ = tr.Close(); _ = pc.Close() })
		conn, err = tr.Dial(ctx, home.Addr(), ident.ClientTLS(), &quic.Config{})
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseWithError(0, "") })
	ctrl, err := conn.OpenStreamSync(ctx)
	require.NoError(t, err)
	hello := wire.Hello{Version: wire.ProtocolVersion, NodeID: ident.ID, Region: region, Role: wire.RoleEdge, Features: features}
	require.NoError(t, wire.WriteFrame(ctrl, wire.FrameHello, &hello))
	var got wire.Hello
	require.NoError(t, wire.ReadFrameAs(ctrl, wire.FrameHello, &got))
	return conn
}
