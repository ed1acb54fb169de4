package sio_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/edge/internal/sio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clientFrames are frames the socket.io-client 4.8 sends, with what Decode
// must make of them.
var clientFrames = []struct {
	name  string
	frame string
	want  sio.Packet
}{
	{"pong", "3", sio.Packet{Engine: sio.EnginePong}},
	{"ping", "2", sio.Packet{Engine: sio.EnginePing}},
	{"probe", "2probe", sio.Packet{Engine: sio.EnginePing}},
	{"close", "1", sio.Packet{Engine: sio.EngineClose}},
	{"noop", "6", sio.Packet{Engine: sio.EngineNoop}},
	{"connect", "40", sio.Packet{Engine: sio.EngineMessage, Type: sio.Connect, Namespace: "/"}},
	{"connect auth", `40{"token":"a.b.c"}`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Connect, Namespace: "/", Data: json.RawMessage(`{"token":"a.b.c"}`)}},
	{"connect nsp", `40/admin,{"token":"x"}`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Connect, Namespace: "/admin", Data: json.RawMessage(`{"token":"x"}`)}},
	{"connect nsp no comma", `40/admin`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Connect, Namespace: "/admin"}},
	{"bare slash namespace", `40/,{}`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Connect, Namespace: "/", Data: json.RawMessage(`{}`)}},
	{"disconnect", "41", sio.Packet{Engine: sio.EngineMessage, Type: sio.Disconnect, Namespace: "/"}},
	{"register", `420["court:register",{"userId":"u"}]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", HasID: true, ID: 0, Event: "court:register", Data: json.RawMessage(`{"userId":"u"}`)}},
	{"accept", `421["court:accept",{}]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", HasID: true, ID: 1, Event: "court:accept", Data: json.RawMessage(`{}`)}},
	{"no ack no payload", `42["court:serve"]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", Event: "court:serve"}},
	{"big id extra args", `4212345[ "court:x" , [1,{"a":"]"}] , 3 ]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", HasID: true, ID: 12345, Event: "court:x", Data: json.RawMessage(`[1,{"a":"]"}]`)}},
	{"scalar arg", `42["e",12.5e3]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", Event: "e", Data: json.RawMessage(`12.5e3`)}},
	{"string arg", `42["e","a\"]"]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", Event: "e", Data: json.RawMessage(`"a\"]"`)}},
	{"null arg", `42["e",null]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", Event: "e", Data: json.RawMessage(`null`)}},
	{"escaped name", `42["court:\u0061ccept"]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/", Event: "court:accept"}},
	{"event nsp", `42/x,7["e",1]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Event, Namespace: "/x", HasID: true, ID: 7, Event: "e", Data: json.RawMessage(`1`)}},
	{"ack", `431[{"ok":true}]`, sio.Packet{Engine: sio.EngineMessage, Type: sio.Ack, Namespace: "/", HasID: true, ID: 1, Data: json.RawMessage(`[{"ok":true}]`)}},
}

func TestDecodeClientFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range clientFrames {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := sio.Decode([]byte(tc.frame))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		frame string
		want  error
	}{
		{"empty", "", sio.ErrEmpty},
		{"engine type", "9", sio.ErrEngineType},
		{"engine letter", "x", sio.ErrEngineType},
		{"empty message", "4", sio.ErrType},
		{"socket type", "47", sio.ErrType},
		{"socket letter", "4a", sio.ErrType},
		{"binary event", `451-["e",{"_placeholder":true,"num":0}]`, sio.ErrBinary},
		{"binary ack", `461-1[{"_placeholder":true,"num":0}]`, sio.ErrBinary},
		{"bad json", `42["court:serve",{]`, sio.ErrPayload},
		{"truncated", `42["court:serve"`, sio.ErrPayload},
		{"event not array", `42{"a":1}`, sio.ErrPayload},
		{"event empty array", `42[]`, sio.ErrPayload},
		{"event no payload", `42`, sio.ErrPayload},
		{"event number name", `42[1,2]`, sio.ErrPayload},
		{"connect array", `40[1]`, sio.ErrPayload},
		{"connect string", `40"x"`, sio.ErrPayload},
		{"disconnect payload", `41{}`, sio.ErrPayload},
		{"ack object", `431{}`, sio.ErrPayload},
		{"connect error number", `443`, sio.ErrPayload},
		{"ack id too long", `421234567890123456["e"]`, sio.ErrAckID},
		{"trailing garbage", `42["e"]x`, sio.ErrPayload},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := sio.Decode([]byte(tc.frame))
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"open", sio.AppendOpen(nil, "abc", 25*time.Second, 20*time.Second, 1_000_000),
			`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
		{"ping", sio.AppendPing(nil), "2"},
		{"pong", sio.AppendPong(nil), "3"},
		{"connect", sio.AppendConnect(nil, "/", "s1"), `40{"sid":"s1"}`},
		{"connect error", sio.AppendConnectError(nil, "", "Unauthorized"), `44{"message":"Unauthorized"}`},
		{"connect error nsp", sio.AppendConnectError(nil, "/x", "Invalid namespace"), `44/x,{"message":"Invalid namespace"}`},
		{"event", sio.AppendEvent(nil, "/", "court:state", json.RawMessage(`{"phase":"IDLE"}`)), `42["court:state",{"phase":"IDLE"}]`},
		{"event no payload", sio.AppendEvent(nil, "/", "court:x", nil), `42["court:x"]`},
		{"event escaped name", sio.AppendEvent(nil, "/", "a\"b", nil), `42["a\"b"]`},
		{"event func", sio.AppendEventFunc(nil, "/", "court:state", func(b []byte) []byte { return append(b, `{"phase":"IDLE"}`...) }),
			`42["court:state",{"phase":"IDLE"}]`},
		{"ack", sio.AppendAck(nil, "/", 12, json.RawMessage(`{"ok":true}`)), `4312[{"ok":true}]`},
		{"ack nsp empty", sio.AppendAck(nil, "/n", 0, nil), `43/n,0[]`},
		{"disconnect", sio.AppendDisconnect(nil, "/"), `41`},
		{"appends", sio.AppendPing([]byte("x")), "x2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, string(tc.got))
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	frame := sio.AppendEvent(nil, "/ns", "court:serve", json.RawMessage(`{"partnerId":"p"}`))
	p, err := sio.Decode(frame)
	require.NoError(t, err)
	require.Equal(t, "court:serve", p.Event)
	require.Equal(t, "/ns", p.Namespace)
	require.JSONEq(t, `{"partnerId":"p"}`, string(p.Data))
}

func TestDecodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under -race")
	}
	frame := []byte(`421["court:submit_evidence",{"evidence":"x","feelings":"y","needs":"z"}]`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := sio.Decode(frame); err != nil {
			panic(err)
		}
	})
	require.LessOrEqual(t, allocs, 1.0, "only the event name may allocate")
}

func FuzzDecode(f *testing.F) {
	for _, tc := range clientFrames {
		f.Add([]byte(tc.frame))
	}
	for _, s := range []string{"", "4", "42", `451-["e"]`, `40/,`, `42["`, `42["a",`, `42["a",{"b":[1,"\\"]}]`, "3probe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := sio.Decode(frame)
		if err != nil {
			return
		}
		if p.Engine == sio.EngineMessage && p.Type == sio.Event && p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("event arg %q of %q is not valid JSON", p.Data, frame)
		}
	})
}
