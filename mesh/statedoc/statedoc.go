// Package statedoc is the court:state document a home sends an edge: the
// sanitised session of one version cut into its fields, with each user's
// private parts as holes, and the users on that edge it is for. The edge
// keeps the last document of each session and rebuilds every user's
// court:state from it, byte for byte as the home would write it; so the
// home sends one document per edge for both partners, and after the first
// only the fields that changed (a delta on a base version).
//
// A court:state is {"phase":P,"myViewPhase":V,"session":S}, where S is the
// fields concatenated with the viewer's own holes filled in and null in
// the other user's (court-protocol.md §6 R17).
package statedoc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"courtmesh/protocol"
)

// EventName is the mesh event that carries a Doc (wire.Event.Payload); its
// SessionID and Version are the session's and the document's version.
const EventName = "mesh:statedoc"

// Side is whose private part a hole is, or which user a view is for.
type Side uint8

// The sides of a session.
const (
	Creator Side = iota
	Partner
)

// Bit is s in a set of sides.
func (s Side) Bit() uint8 { return 1 << s }

// Hole is a private part of a field: Val at offset At of the field's
// literal, shown only to Owner. Val is empty when no user of Owner's side
// is on the edge the document is for.
type Hole struct {
	At    int
	Owner Side
	Val   []byte
}

// Field is one field of the encoded session: its literal bytes (the
// comma and key included) with the holes cut out.
type Field struct {
	Lit   []byte
	Holes []Hole
}

// User is a user a document is delivered to, with what their court:state
// says besides the session: the JSON string literals of the phase and of
// their view phase.
type User struct {
	ID   string
	Side Side
	View []byte
}

// Doc is a court:state document. Base 0 means Fields holds every field of
// the session; otherwise Fields holds the fields that changed since
// version Base, by index.
type Doc struct {
	Base  uint64
	Count int // fields of the session
	// Sides are the sides (bits of Side) whose holes carry their values.
	Sides  uint8
	Phase  []byte
	Users  []User
	Fields []Indexed
}

// Indexed is a field with its index in the session.
type Indexed struct {
	Index int
	Field
}

// SidesOf returns the sides of users.
func SidesOf(users []User) uint8 {
	var m uint8
	for _, u := range users {
		m |= u.Side.Bit()
	}
	return m
}

// ErrBadDoc means a document body is malformed.
var ErrBadDoc = errors.New("statedoc: malformed document")

// Append appends the binary encoding of d to dst.
func Append(dst []byte, d *Doc) []byte {
	dst = binary.AppendUvarint(dst, d.Base)
	dst = binary.AppendUvarint(dst, uint64(d.Count))
	dst = append(dst, d.Sides)
	dst = appendBytes(dst, d.Phase)
	dst = binary.AppendUvarint(dst, uint64(len(d.Users)))
	for _, u := range d.Users {
		dst = appendBytes(dst, []byte(u.ID))
		dst = append(dst, byte(u.Side))
		dst = appendBytes(dst, u.View)
	}
	dst = binary.AppendUvarint(dst, uint64(len(d.Fields)))
	for _, f := range d.Fields {
		dst = binary.AppendUvarint(dst, uint64(f.Index))
		dst = appendBytes(dst, f.Lit)
		dst = binary.AppendUvarint(dst, uint64(len(f.Holes)))
		for _, h := range f.Holes {
			dst = binary.AppendUvarint(dst, uint64(h.At))
			dst = append(dst, byte(h.Owner))
			dst = appendBytes(dst, h.Val)
		}
	}
	return dst
}

// Decode decodes a document. Its byte strings share b's memory.
func Decode(b []byte) (*Doc, error) {
	r := reader{b: b}
	d := &Doc{Base: r.uint(), Count: r.int(), Sides: r.byte(), Phase: r.bytes()}
	d.Users = make([]User, r.count())
	for i := range d.Users {
		d.Users[i] = User{ID: string(r.bytes()), Side: r.side(), View: r.bytes()}
	}
	d.Fields = make([]Indexed, r.count())
	for i := range d.Fields {
		f := &d.Fields[i]
		f.Index, f.Lit = r.int(), r.bytes()
		if n := r.count(); n > 0 {
			f.Holes = make([]Hole, n)
		}
		for j := range f.Holes {
			h := &f.Holes[j]
			h.At, h.Owner, h.Val = r.int(), r.side(), r.bytes()
			if r.err == nil && (h.At > len(f.Lit) || j > 0 && h.At < f.Holes[j-1].At) {
				r.fail("hole out of its field")
			}
		}
		if r.err == nil && (f.Index >= d.Count || i > 0 && f.Index <= d.Fields[i-1].Index) {
			r.fail("field index out of order")
		}
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("bytes after the document")
	}
	if r.err == nil && d.Base == 0 && len(d.Fields) != d.Count {
		r.fail("a full document lacks fields")
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// reader reads a document's fields; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadDoc, why)
	}
}

func (r *reader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad integer")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int reads an integer that indexes the document, bounded by its length.
func (r *reader) int() int {
	v := r.uint()
	if v > uint64(len(r.b))+1<<20 {
		r.fail("integer out of range")
		return 0
	}
	return int(v)
}

// count reads a number of items, each at least a byte long.
func (r *reader) count() int {
	v := r.uint()
	if v > uint64(len(r.b)) {
		r.fail("count runs past the end")
		return 0
	}
	return int(v)
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) side() Side {
	s := Side(r.byte())
	if s > Partner {
		r.fail("bad side")
	}
	return s
}

func (r *reader) bytes() []byte {
	n := r.uint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("byte string runs past the end")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Session is an edge's copy of a session's last document.
type Session struct {
	Version uint64
	Sides   uint8
	Phase   []byte
	// Users are the users the last document was for, with their views.
	Users  []User
	Fields []Field
	size   int
}

// Size is about the memory s holds, in bytes.
func (s *Session) Size() int { return s.size }

// Visible is f with the values of the holes of sides not in the set sides
// left out: an edge gets the private parts of the users it holds only.
func Visible(f Field, sides uint8) Field {
	if !slices.ContainsFunc(f.Holes, func(h Hole) bool { return sides&h.Owner.Bit() == 0 }) {
		return f
	}
	out := Field{Lit: f.Lit, Holes: slices.Clone(f.Holes)}
	for i := range out.Holes {
		if sides&out.Holes[i].Owner.Bit() == 0 {
			out.Holes[i].Val = nil
		}
	}
	return out
}

// Apply returns the session d, of version, makes of prev (nil for none):
// d itself when full, prev with d's fields replaced when d is a delta on
// prev's version whose sides prev has. It copies what it keeps out of d,
// whose bytes may be a frame's. ok is false when d is a delta that prev
// cannot take (a version was missed): the edge must read the state again.
func Apply(prev *Session, d *Doc, version uint64) (next *Session, ok bool) {
	if d.Base != 0 && (prev == nil || prev.Version != d.Base || len(prev.Fields) != d.Count ||
		d.Sides&^prev.Sides != 0) {
		return nil, false
	}
	next = &Session{Version: version, Sides: d.Sides, Phase: slices.Clone(d.Phase), Users: make([]User, len(d.Users))}
	for i, u := range d.Users {
		next.Users[i] = User{ID: u.ID, Side: u.Side, View: slices.Clone(u.View)}
	}
	if d.Base == 0 {
		next.Fields = make([]Field, d.Count)
	} else {
		next.Fields = slices.Clone(prev.Fields)
	}
	for _, f := range d.Fields {
		next.Fields[f.Index] = copyField(f.Field)
	}
	next.size = len(next.Phase)
	for _, u := range next.Users {
		next.size += len(u.ID) + len(u.View) + 48
	}
	for _, f := range next.Fields {
		next.size += len(f.Lit) + 32
		for _, h := range f.Holes {
			next.size += len(h.Val) + 32
		}
	}
	return next, true
}

func copyField(f Field) Field {
	out := Field{Lit: slices.Clone(f.Lit), Holes: slices.Clone(f.Holes)}
	for i := range out.Holes {
		out.Holes[i].Val = slices.Clone(out.Holes[i].Val)
	}
	return out
}

// Has reports whether s carries the private parts of u's side.
func (s *Session) Has(u User) bool { return s.Sides&u.Side.Bit() != 0 }

// AppendAck appends to dst the ack of an action of the user id answered by
// s, {"ok":true,"state":<their court:state>}, byte for byte the ack the
// home writes (home/handler.go). ok is false when s's last document was not
// for the user, or lacks their side's private parts.
func (s *Session) AppendAck(dst []byte, id string) (_ []byte, ok bool) {
	i := slices.IndexFunc(s.Users, func(u User) bool { return u.ID == id })
	if i < 0 || !s.Has(s.Users[i]) {
		return dst, false
	}
	dst = s.AppendState(append(dst, protocol.AckStateStart...), s.Users[i])
	return append(dst, protocol.AckStateEnd...), true
}

// AppendState appends the court:state u sees to dst.
func (s *Session) AppendState(dst []byte, u User) []byte {
	if n := s.size + len(u.View) + 64; cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = append(dst, `{"phase":`...)
	dst = append(dst, s.Phase...)
	dst = append(dst, `,"myViewPhase":`...)
	dst = append(dst, u.View...)
	dst = append(dst, `,"session":`...)
	for _, f := range s.Fields {
		dst = AppendField(dst, f, u.Side)
	}
	return append(dst, '}')
}

// AppendField appends f as viewer sees it: its own holes filled in, the
// other side's null.
func AppendField(dst []byte, f Field, viewer Side) []byte {
	at := 0
	for _, h := range f.Holes {
		dst = append(dst, f.Lit[at:h.At]...)
		if h.Owner == viewer {
			dst = append(dst, h.Val...)
		} else {
			dst = append(dst, "null"...)
		}
		at = h.At
	}
	return append(dst, f.Lit[at:]...)
}
