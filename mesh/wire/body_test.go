package wire_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
)

// bigState is a court:state payload the size of one in VERDICT (about 46
// KiB), made of long LLM texts.
func bigState() json.RawMessage {
	text := strings.Repeat("We both want the evening to feel fair <and> calm & kind. ", 40)
	res := make([]map[string]string, 3)
	for i := range res {
		res[i] = map[string]string{"id": fmt.Sprintf("resolution_%d", i+1), "description": text, "rationale": text}
	}
	b, err := json.Marshal(map[string]any{"phase": "VERDICT", "myViewPhase": "VERDICT", "session": map[string]any{
		"id": "2f1c0b1e-7d0c-4c59-9a57-3c1f8d2b6a10", "analysis": map[string]any{"summary": text, "resolutions": res},
		"resolutions": res, "verdict": map[string]string{"status": "success", "text": text + text},
	}})
	if err != nil {
		panic(err)
	}
	return b
}

// realMessages are the binary-bodied messages as the mesh sends them.
func realMessages() map[wire.FrameType]any {
	state := bigState()
	ack := append(append([]byte(`{"ok":true,"state":`), state...), '}')
	return map[wire.FrameType]any{
		wire.FrameRequest: &wire.Request{ID: "r-1", UserID: "u1", Event: "court:accept_verdict", Payload: json.RawMessage(`{}`),
			EdgeNode: "edge-asia-1", EdgeRegion: "asia", HomeRegion: "us"},
		wire.FrameResponse: &wire.Response{Ack: ack, SessionID: "2f1c0b1e-7d0c-4c59-9a57-3c1f8d2b6a10", Version: 17},
		wire.FrameEvent:    &wire.Event{UserID: "u1", Name: "court:state", Payload: state, SessionID: "2f1c0b1e-7d0c-4c59-9a57-3c1f8d2b6a10", Version: 17},
	}
}

// realFrames are whole frames of realMessages and samples.
func realFrames(tb testing.TB) [][]byte {
	var out [][]byte
	for _, set := range []map[wire.FrameType]any{realMessages(), samples()} {
		for typ, msg := range set {
			frame, err := wire.EncodeFrame(typ, msg)
			require.NoError(tb, err)
			out = append(out, frame)
		}
	}
	return out
}

func TestBinaryBodies(t *testing.T) {
	t.Parallel()
	for typ, msg := range realMessages() {
		t.Run(typ.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, wire.WriteFrame(&buf, typ, msg))
			got := zeroOf(typ)
			require.NoError(t, wire.ReadFrameAs(&buf, typ, got))
			require.Equal(t, msg, got)
		})
	}
	// Empty fields decode as nil and zero values.
	b := wire.AppendEvent(nil, &wire.Event{})
	require.Equal(t, []byte{0, 0, 0, 0, 0}, b)
	ev, err := wire.DecodeEvent(b)
	require.NoError(t, err)
	require.Equal(t, &wire.Event{}, ev)
	// A body of the wrong Go type is refused, not mis-encoded.
	_, err = wire.EncodeFrame(wire.FrameEvent, &wire.Request{})
	require.Error(t, err)
	require.Error(t, wire.DecodeBody(wire.FrameEvent, b, wire.FrameEvent, new(wire.Request)))
}

// A response whose state is in a document has one field more, which the
// decoder takes or leaves: a response without it is the body of the
// release before, both ways.
func TestResponseStateInDoc(t *testing.T) {
	t.Parallel()
	plain := &wire.Response{Ack: []byte(`{"ok":true}`), SessionID: "s1", Version: 7}
	inDoc := &wire.Response{SessionID: "s1", Version: 7, StateInDoc: true}
	before := []byte{11, '{', '"', 'o', 'k', '"', ':', 't', 'r', 'u', 'e', '}', 0, 2, 's', '1', 7}
	require.Equal(t, before, wire.AppendResponse(nil, plain), "the body of the release before")
	for _, r := range []*wire.Response{plain, inDoc} {
		got, err := wire.DecodeResponse(wire.AppendResponse(nil, r))
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	body := wire.AppendResponse(nil, inDoc)
	require.Equal(t, byte(1), body[len(body)-1])
	body[len(body)-1] = 0
	_, err := wire.DecodeResponse(body)
	require.ErrorIs(t, err, wire.ErrBadBody)
}

func TestBinaryBodyErrors(t *testing.T) {
	t.Parallel()
	ev := wire.AppendEvent(nil, realMessages()[wire.FrameEvent].(*wire.Event))
	cases := map[string][]byte{
		"empty":          {},
		"truncated":      ev[:len(ev)/2],
		"last byte gone": ev[:len(ev)-1],
		"trailing":       append(append([]byte{}, ev...), 0),
		"length too big": {0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad varint":     {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := wire.DecodeEvent(in)
			require.ErrorIs(t, err, wire.ErrBadBody)
			_, err = wire.DecodeRequest(in)
			require.ErrorIs(t, err, wire.ErrBadBody)
			_, err = wire.DecodeResponse(in)
			require.ErrorIs(t, err, wire.ErrBadBody)
		})
	}
	_, err := wire.DecodeEvent(make([]byte, wire.MaxFrameSize+1))
	require.ErrorIs(t, err, wire.ErrFrameTooLarge)
	_, err = wire.EncodeFrame(wire.FrameEvent, &wire.Event{Payload: make([]byte, wire.MaxFrameSize)})
	require.ErrorIs(t, err, wire.ErrFrameTooLarge)
}

// fuzzBody checks that decode never panics, and that a body that decodes
// encodes into one that decodes to the same message.
func fuzzBody[T any](f *testing.F, typ wire.FrameType, enc func([]byte, *T) []byte, dec func([]byte) (*T, error)) {
	for t, msg := range realMessages() {
		if t == typ {
			body := enc(nil, msg.(*T))
			f.Add(body)
			f.Add(body[:len(body)-1])
			f.Add(body[:len(body)/3])
		}
	}
	if msg, ok := samples()[typ].(*T); ok {
		f.Add(enc(nil, msg))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := dec(data)
		if err != nil {
			return
		}
		again, err := dec(enc(nil, m))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("%+v != %+v", m, again)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) { fuzzBody(f, wire.FrameEvent, wire.AppendEvent, wire.DecodeEvent) }
func FuzzDecodeRequest(f *testing.F) {
	fuzzBody(f, wire.FrameRequest, wire.AppendRequest, wire.DecodeRequest)
}
func FuzzDecodeResponse(f *testing.F) {
	fuzzBody(f, wire.FrameResponse, wire.AppendResponse, wire.DecodeResponse)
}

// BenchmarkEvent encodes and decodes a VERDICT-sized court:state event, as
// JSON (protocol version 1) and as the binary body.
func BenchmarkEvent(b *testing.B) {
	ev := realMessages()[wire.FrameEvent].(*wire.Event)
	b.Run("json/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	body, _ := json.Marshal(ev)
	b.Run("json/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got wire.Event
			if err := json.Unmarshal(body, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wire.EncodeFrame(wire.FrameEvent, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	bin := wire.AppendEvent(nil, ev)
	b.Run("binary/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wire.DecodeEvent(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestWriteFrameReusesNothingWritten writes every message, large ones and
// small ones in turn, through WriteFrame's pooled buffers: each frame on the
// stream must be exactly EncodeFrame's, so a buffer reused for the next
// frame cannot have changed what an earlier Write was given, and a frame
// shorter than the buffer's last one carries none of its bytes.
func TestWriteFrameReusesNothingWritten(t *testing.T) {
	var stream bytes.Buffer
	var want [][]byte
	for range 3 {
		for _, set := range []map[wire.FrameType]any{realMessages(), samples()} {
			for typ, msg := range set {
				frame, err := wire.EncodeFrame(typ, msg)
				require.NoError(t, err)
				want = append(want, frame)
				require.NoError(t, wire.WriteFrame(&stream, typ, msg))
			}
		}
	}
	for i, w := range want {
		got := stream.Next(len(w))
		require.Equal(t, w, got, "frame %d", i)
	}
	require.Zero(t, stream.Len())
}

// BenchmarkWriteFrame writes the answer of an action (a VERDICT-sized ack)
// as the home does: allocations per answer are the point.
func BenchmarkWriteFrame(b *testing.B) {
	resp := realMessages()[wire.FrameResponse].(*wire.Response)
	b.ReportAllocs()
	for b.Loop() {
		if err := wire.WriteFrame(io.Discard, wire.FrameResponse, resp); err != nil {
			b.Fatal(err)
		}
	}
}
