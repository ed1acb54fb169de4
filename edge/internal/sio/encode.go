package sio

import (
	"encoding/json"
	"strconv"
	"time"
)

// The Append functions append one complete Engine.IO text frame to dst and
// return the extended slice. Payloads must be valid JSON; they are copied
// as they are. A namespace of "" or "/" is the default namespace.

// AppendOpen appends the open packet that starts every connection.
func AppendOpen(dst []byte, sid string, pingInterval, pingTimeout time.Duration, maxPayload int) []byte {
	dst = append(dst, `0{"sid":`...)
	dst = appendString(dst, sid)
	dst = append(dst, `,"upgrades":[],"pingInterval":`...)
	dst = strconv.AppendInt(dst, pingInterval.Milliseconds(), 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, pingTimeout.Milliseconds(), 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, int64(maxPayload), 10)
	return append(dst, '}')
}

// AppendPing appends an Engine.IO ping.
func AppendPing(dst []byte) []byte { return append(dst, byte(EnginePing)) }

// AppendPong appends an Engine.IO pong.
func AppendPong(dst []byte) []byte { return append(dst, byte(EnginePong)) }

// AppendConnect appends a successful CONNECT answer: 40{"sid":"..."}.
func AppendConnect(dst []byte, nsp, sid string) []byte {
	dst = appendHeader(dst, Connect, nsp)
	dst = append(dst, `{"sid":`...)
	dst = appendString(dst, sid)
	return append(dst, '}')
}

// AppendConnectError appends a refused CONNECT: 44{"message":"..."}.
func AppendConnectError(dst []byte, nsp, message string) []byte {
	dst = appendHeader(dst, ConnectError, nsp)
	dst = append(dst, `{"message":`...)
	dst = appendString(dst, message)
	return append(dst, '}')
}

// AppendEvent appends 42["name",payload], or 42["name"] when payload is nil.
func AppendEvent(dst []byte, nsp, name string, payload json.RawMessage) []byte {
	dst = grow(dst, len(nsp)+len(name)+len(payload)+16)
	dst = appendHeader(dst, Event, nsp)
	dst = append(dst, '[')
	dst = appendString(dst, name)
	if payload != nil {
		dst = append(dst, ',')
		dst = append(dst, payload...)
	}
	return append(dst, ']')
}

// AppendEventFunc is AppendEvent with the payload appended by payload, so a
// payload built for the frame is not copied into it.
func AppendEventFunc(dst []byte, nsp, name string, payload func([]byte) []byte) []byte {
	dst = appendHeader(dst, Event, nsp)
	dst = append(dst, '[')
	dst = appendString(dst, name)
	dst = payload(append(dst, ','))
	return append(dst, ']')
}

// AppendAck appends 43<id>[payload], or 43<id>[] when payload is nil.
func AppendAck(dst []byte, nsp string, id uint64, payload json.RawMessage) []byte {
	dst = grow(dst, len(nsp)+len(payload)+32)
	dst = appendHeader(dst, Ack, nsp)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, '[')
	dst = append(dst, payload...)
	return append(dst, ']')
}

// AppendDisconnect appends a server-side DISCONNECT: 41.
func AppendDisconnect(dst []byte, nsp string) []byte {
	return appendHeader(dst, Disconnect, nsp)
}

// grow makes room for n more bytes in dst at once, so a frame around a
// large payload (a court:state of tens of KiB) is allocated once, at its
// size, not grown by append as its parts arrive.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	return append(make([]byte, 0, len(dst)+n), dst...)
}

func appendHeader(dst []byte, t Type, nsp string) []byte {
	dst = append(dst, byte(EngineMessage), '0'+byte(t))
	if nsp != "" && nsp != DefaultNamespace {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	return dst
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
