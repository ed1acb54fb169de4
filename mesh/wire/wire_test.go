package wire_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
)

// samples is one message of every frame type.
func samples() map[wire.FrameType]any {
	return map[wire.FrameType]any{
		wire.FrameHello:    &wire.Hello{Version: wire.ProtocolVersion, NodeID: "edge-asia-1", Region: "asia", Role: wire.RoleEdge},
		wire.FramePing:     &wire.Ping{Nonce: 42, SentUnixNano: 1700000000000000000},
		wire.FramePong:     &wire.Ping{Nonce: 42, SentUnixNano: 1700000000000000000},
		wire.FrameGoAway:   &wire.GoAway{Reason: "drain"},
		wire.FrameRequest:  &wire.Request{UserID: "u1", Event: "court:serve", Payload: json.RawMessage(`{"partner":"u2"}`), EdgeNode: "e", EdgeRegion: "asia", HomeRegion: "us"},
		wire.FrameResponse: &wire.Response{Ack: json.RawMessage(`{"ok":true}`), SessionID: "s1", Version: 3},
		wire.FrameEvent:    &wire.Event{UserID: "u1", Name: "court:state", Payload: json.RawMessage(`{"phase":"LOBBY"}`), SessionID: "s1", Version: 3},
		wire.FrameError:    &wire.Error{Code: wire.CodeNotOwner, Reason: "moved", Temporary: true},
	}
}

// zeroOf returns a pointer to a new value of the type that goes with t.
func zeroOf(t wire.FrameType) any {
	switch t {
	case wire.FrameHello:
		return new(wire.Hello)
	case wire.FramePing, wire.FramePong:
		return new(wire.Ping)
	case wire.FrameGoAway:
		return new(wire.GoAway)
	case wire.FrameRequest:
		return new(wire.Request)
	case wire.FrameResponse:
		return new(wire.Response)
	case wire.FrameEvent:
		return new(wire.Event)
	}
	return new(wire.Error)
}

func TestFramesRoundTrip(t *testing.T) {
	t.Parallel()
	for typ, msg := range samples() {
		t.Run(typ.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, wire.WriteFrame(&buf, typ, msg))
			got := zeroOf(typ)
			require.NoError(t, wire.ReadFrameAs(&buf, typ, got))
			require.Equal(t, msg, got)
			_, _, err := wire.ReadFrame(&buf)
			require.ErrorIs(t, err, io.EOF)
		})
	}
}

func TestReadFrameErrors(t *testing.T) {
	t.Parallel()
	var hdr [5]byte
	hdr[0] = byte(wire.FrameEvent)
	binary.BigEndian.PutUint32(hdr[1:], wire.MaxFrameSize+1)
	cases := map[string]struct {
		in   []byte
		want error
	}{
		"oversized":        {hdr[:], wire.ErrFrameTooLarge},
		"unknown type":     {[]byte{10, 0, 0, 0, 0}, wire.ErrBadFrameType},
		"zero type":        {[]byte{0, 0, 0, 0, 2, '{', '}'}, wire.ErrBadFrameType},
		"truncated header": {[]byte{byte(wire.FramePing), 0}, io.ErrUnexpectedEOF},
		"truncated body":   {[]byte{byte(wire.FramePing), 0, 0, 0, 9, '{'}, io.ErrUnexpectedEOF},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := wire.ReadFrame(bytes.NewReader(c.in))
			require.ErrorIs(t, err, c.want)
		})
	}
	require.ErrorIs(t, wire.WriteRawFrame(io.Discard, wire.FrameEvent, make([]byte, wire.MaxFrameSize+1)), wire.ErrFrameTooLarge)
}

func TestReadFrameAsErrorFrame(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, wire.WriteFrame(&buf, wire.FrameError, &wire.Error{Code: wire.CodeVersion, Reason: "v2"}))
	err := wire.ReadFrameAs(&buf, wire.FrameHello, new(wire.Hello))
	var werr *wire.Error
	require.True(t, errors.As(err, &werr))
	require.Equal(t, wire.CodeVersion, werr.Code)
}

func FuzzReadFrame(f *testing.F) {
	for typ, msg := range samples() {
		var buf bytes.Buffer
		if err := wire.WriteFrame(&buf, typ, msg); err != nil {
			f.Fatal(err)
		}
		frame := buf.Bytes()
		f.Add(frame)
		f.Add(frame[:len(frame)/2])               // truncated body
		f.Add(frame[:3])                          // truncated header
		f.Add(append(frame, frame...))            // two frames
		f.Add(append([]byte{0xff}, frame[1:]...)) // bad type
	}
	f.Add([]byte{byte(wire.FrameEvent), 0xff, 0xff, 0xff, 0xff}) // oversized
	f.Add([]byte{byte(wire.FrameEvent), 0, 0x40, 0, 1})          // one past MaxFrameSize
	f.Add([]byte{})
	for _, frame := range realFrames(f) {
		f.Add(frame)
		f.Add(frame[:len(frame)-1])
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		typ, body, err := wire.ReadFrame(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A frame read back is exactly the bytes it came from.
		var buf bytes.Buffer
		if err := wire.WriteRawFrame(&buf, typ, body); err != nil {
			t.Fatalf("rewrite %s: %v", typ, err)
		}
		if !bytes.Equal(buf.Bytes(), data[:buf.Len()]) {
			t.Fatalf("%s frame does not round-trip", typ)
		}
		// Decoding must not panic; a body that decodes re-encodes into a
		// frame that decodes to the same value.
		v := zeroOf(typ)
		if err := wire.DecodeBody(typ, body, typ, v); err != nil {
			return
		}
		buf.Reset()
		if err := wire.WriteFrame(&buf, typ, v); err != nil {
			t.Fatalf("re-encode %s: %v", typ, err)
		}
		again := zeroOf(typ)
		if err := wire.ReadFrameAs(&buf, typ, again); err != nil {
			t.Fatalf("re-read %s: %v", typ, err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("%s: %+v != %+v", typ, v, again)
		}
	})
}
