package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The bodies of FrameRequest, FrameResponse and FrameEvent are binary: their
// fields in declaration order, each a byte string (uvarint length, then the
// bytes) or an unsigned integer (uvarint). JSON payloads are carried as they
// are, never parsed nor validated on the way: the home validated or produced
// them and the client parses them.

// ErrBadBody means a binary frame body is truncated, has a length that runs
// past its end, or has bytes after its last field.
var ErrBadBody = errors.New("wire: malformed body")

// AppendRequest appends the binary body of r to dst.
func AppendRequest(dst []byte, r *Request) []byte {
	dst = growBy(dst, 7*binary.MaxVarintLen32+len(r.ID)+len(r.UserID)+len(r.Event)+len(r.Payload)+
		len(r.EdgeNode)+len(r.EdgeRegion)+len(r.HomeRegion))
	dst = appendString(dst, r.ID)
	dst = appendString(dst, r.UserID)
	dst = appendString(dst, r.Event)
	dst = appendBytes(dst, r.Payload)
	dst = appendString(dst, r.EdgeNode)
	dst = appendString(dst, r.EdgeRegion)
	return appendString(dst, r.HomeRegion)
}

// DecodeRequest decodes a binary Request body. The Payload shares b's memory.
func DecodeRequest(b []byte) (*Request, error) {
	d := newDecoder(b)
	r := &Request{
		ID:         d.string(),
		UserID:     d.string(),
		Event:      d.string(),
		Payload:    d.bytes(),
		EdgeNode:   d.string(),
		EdgeRegion: d.string(),
		HomeRegion: d.string(),
	}
	if err := d.end(FrameRequest); err != nil {
		return nil, err
	}
	return r, nil
}

// AppendResponse appends the binary body of r to dst. StateInDoc is a
// last field present only when set, so a response without it is the body
// nodes of an earlier release read (they are never sent one with it).
func AppendResponse(dst []byte, r *Response) []byte {
	dst = growBy(dst, 5*binary.MaxVarintLen64+len(r.Ack)+len(r.CourtError)+len(r.SessionID))
	dst = appendBytes(dst, r.Ack)
	dst = appendBytes(dst, r.CourtError)
	dst = appendString(dst, r.SessionID)
	dst = binary.AppendUvarint(dst, r.Version)
	if r.StateInDoc {
		dst = binary.AppendUvarint(dst, 1)
	}
	return dst
}

// DecodeResponse decodes a binary Response body, with or without its last
// field (StateInDoc). Ack and CourtError share b's memory.
func DecodeResponse(b []byte) (*Response, error) {
	d := newDecoder(b)
	r := &Response{
		Ack:        d.bytes(),
		CourtError: d.bytes(),
		SessionID:  d.string(),
		Version:    d.uint(),
	}
	if d.more() {
		if r.StateInDoc = d.uint() == 1; !r.StateInDoc && d.err == nil {
			d.err = fmt.Errorf("%w: state_in_doc is written 1 or not at all", ErrBadBody)
		}
	}
	if err := d.end(FrameResponse); err != nil {
		return nil, err
	}
	return r, nil
}

// AppendEvent appends the binary body of e to dst.
func AppendEvent(dst []byte, e *Event) []byte {
	dst = growBy(dst, 5*binary.MaxVarintLen64+len(e.UserID)+len(e.Name)+len(e.Payload)+len(e.SessionID))
	dst = appendString(dst, e.UserID)
	dst = appendString(dst, e.Name)
	dst = appendBytes(dst, e.Payload)
	dst = appendString(dst, e.SessionID)
	return binary.AppendUvarint(dst, e.Version)
}

// DecodeEvent decodes a binary Event body. The Payload shares b's memory.
func DecodeEvent(b []byte) (*Event, error) {
	d := newDecoder(b)
	e := &Event{
		UserID:    d.string(),
		Name:      d.string(),
		Payload:   d.bytes(),
		SessionID: d.string(),
		Version:   d.uint(),
	}
	if err := d.end(FrameEvent); err != nil {
		return nil, err
	}
	return e, nil
}

func growBy(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decoder reads the fields of a binary body; the first failure sticks and
// every later read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func newDecoder(b []byte) *decoder {
	d := &decoder{b: b}
	if len(b) > MaxFrameSize {
		d.err = ErrFrameTooLarge
	}
	return d
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad integer", ErrBadBody)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns the next byte string, nil when empty, sharing the body's
// memory (capped, so appending to it cannot overwrite the next field).
func (d *decoder) bytes() []byte {
	n := d.uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: field of %d bytes, %d left", ErrBadBody, n, len(d.b))
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

// more reports whether bytes are left to read: an optional last field.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) end(t FrameType) error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%w: %d bytes after the last field", ErrBadBody, len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", t, d.err)
	}
	return nil
}
