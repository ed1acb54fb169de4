package sio

import (
	"encoding/json"
	"fmt"
)

// Decode decodes one client frame (the text of one WebSocket message). It
// never panics; any malformed frame is an error wrapping one of the sentinel
// errors. The returned Packet's Data aliases frame.
func Decode(frame []byte) (Packet, error) {
	if len(frame) == 0 {
		return Packet{}, ErrEmpty
	}
	et := EngineType(frame[0])
	if et < EngineOpen || et > EngineNoop {
		return Packet{}, fmt.Errorf("%w: %q", ErrEngineType, frame[0])
	}
	if et != EngineMessage {
		// Engine packets other than message carry no data we use
		// ("2probe" and "3probe" belong to transport upgrades).
		return Packet{Engine: et}, nil
	}
	p, err := decodeSocket(frame[1:])
	p.Engine = et
	return p, err
}

func decodeSocket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrType
	}
	p := Packet{Type: Type(b[0] - '0')}
	switch {
	case b[0] < '0' || p.Type > BinaryAck:
		return Packet{}, fmt.Errorf("%w: %q", ErrType, b[0])
	case p.Type == BinaryEvent || p.Type == BinaryAck:
		return Packet{}, ErrBinary
	}
	rest, err := p.header(b[1:])
	if err != nil {
		return Packet{}, err
	}
	if len(rest) > 0 && !json.Valid(rest) {
		return Packet{}, fmt.Errorf("%w: invalid JSON", ErrPayload)
	}
	if err := p.payload(rest); err != nil {
		return Packet{}, err
	}
	return p, nil
}

// header parses the optional namespace and ack id and returns the payload.
func (p *Packet) header(b []byte) ([]byte, error) {
	p.Namespace = DefaultNamespace
	if len(b) > 0 && b[0] == '/' {
		end := indexByte(b, ',')
		if nsp := b[:end]; string(nsp) != DefaultNamespace {
			p.Namespace = string(nsp)
		}
		b = b[min(end+1, len(b)):]
	}
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		if n == maxAckIDDigits {
			return nil, ErrAckID
		}
		p.ID = p.ID*10 + uint64(b[n]-'0')
		n++
	}
	p.HasID = n > 0
	return b[n:], nil
}

// payload checks rest, already known to be valid JSON or empty, against p's
// type and fills Event and Data.
func (p *Packet) payload(rest []byte) error {
	first := firstByte(rest)
	switch p.Type {
	case Connect:
		if len(rest) > 0 && first != '{' {
			return fmt.Errorf("%w: CONNECT payload must be an object", ErrPayload)
		}
	case Disconnect:
		if len(rest) > 0 {
			return fmt.Errorf("%w: DISCONNECT takes no payload", ErrPayload)
		}
	case Event:
		return p.event(rest)
	case Ack:
		if first != '[' {
			return fmt.Errorf("%w: ACK payload must be an array", ErrPayload)
		}
	case ConnectError:
		if first != '{' && first != '"' {
			return fmt.Errorf("%w: CONNECT_ERROR payload must be an object or a string", ErrPayload)
		}
	}
	if len(rest) > 0 {
		p.Data = rest
	}
	return nil
}

// event parses ["name", first, ...] from valid JSON.
func (p *Packet) event(b []byte) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return fmt.Errorf("%w: EVENT payload must be an array", ErrPayload)
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return fmt.Errorf("%w: EVENT name must be a string", ErrPayload)
	}
	end := valueEnd(b, i)
	if end-i < 2 {
		return fmt.Errorf("%w: EVENT name", ErrPayload)
	}
	name, err := unquote(b[i:end])
	if err != nil {
		return err
	}
	p.Event = name
	i = skipSpace(b, end)
	if i < len(b) && b[i] == ',' {
		if i = skipSpace(b, i+1); i >= len(b) {
			return fmt.Errorf("%w: EVENT argument", ErrPayload)
		}
		p.Data = b[i:valueEnd(b, i)]
	}
	return nil
}

// unquote decodes a JSON string token, without allocating beyond the
// result when it holds no escapes.
func unquote(tok []byte) (string, error) {
	inner := tok[1 : len(tok)-1]
	if indexByte(inner, '\\') == len(inner) {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", fmt.Errorf("%w: event name: %w", ErrPayload, err)
	}
	return s, nil
}
