package sio

/*
Framing (one Engine.IO packet per WebSocket text message):

	<engine type digit>[<data>]

	0 open     server → client  0{"sid":..,"upgrades":[],"pingInterval":..,"pingTimeout":..,"maxPayload":..}
	1 close    either way
	2 ping     server → client every pingInterval ("2probe" only during upgrades)
	3 pong     client → server within pingTimeout
	4 message  either way, data is one Socket.IO packet
	5 upgrade, 6 noop

A Socket.IO packet is

	<type digit>[/<namespace>,][<ack id digits>][<JSON payload>]

	0 CONNECT        payload: optional auth object        40{"token":"..."}
	1 DISCONNECT     no payload                            41
	2 EVENT          payload: ["name", args...]            421["court:accept",{}]
	3 ACK            payload: [args...]                    431[{"ok":true}]
	4 CONNECT_ERROR  payload: {"message":...}              44{"message":"Unauthorized"}
	5 BINARY_EVENT, 6 BINARY_ACK: refused (ErrBinary)

The namespace is "/" when absent.
*/

import (
	"encoding/json"
	"errors"
)

// EngineType is an Engine.IO v4 packet type, as its ASCII digit.
type EngineType byte

// Engine.IO packet types.
const (
	EngineOpen    EngineType = '0'
	EngineClose   EngineType = '1'
	EnginePing    EngineType = '2'
	EnginePong    EngineType = '3'
	EngineMessage EngineType = '4'
	EngineUpgrade EngineType = '5'
	EngineNoop    EngineType = '6'
)

// Type is a Socket.IO v5 packet type.
type Type byte

// Socket.IO packet types.
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

// DefaultNamespace is the namespace of packets that name none.
const DefaultNamespace = "/"

// maxAckIDDigits bounds an ack id (the JS client counts from 0 upwards; 15
// digits stay below 2^53, the largest id a JS number holds exactly).
const maxAckIDDigits = 15

// Decode errors.
var (
	ErrEmpty      = errors.New("sio: empty packet")
	ErrEngineType = errors.New("sio: unknown engine.io packet type")
	ErrType       = errors.New("sio: unknown socket.io packet type")
	ErrBinary     = errors.New("sio: binary packets are not supported")
	ErrAckID      = errors.New("sio: bad ack id")
	ErrPayload    = errors.New("sio: bad payload")
)

// Packet is one decoded client frame.
type Packet struct {
	// Engine is the Engine.IO packet type. The fields below are set only
	// when it is EngineMessage.
	Engine EngineType
	// Type is the Socket.IO packet type.
	Type Type
	// Namespace is "/" unless the packet names another.
	Namespace string
	// ID is the ack id; HasID reports whether the packet carries one (for
	// an EVENT: whether the client waits for an ack).
	ID    uint64
	HasID bool
	// Event is the event name of an EVENT packet.
	Event string
	// Data is the CONNECT auth object, the first argument of an EVENT after
	// its name, or the argument array of an ACK; nil when absent. It aliases
	// the decoded frame.
	Data json.RawMessage
}
