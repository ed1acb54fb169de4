package court

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"courtmesh/mesh/statedoc"
)

// StateEncoder writes the state objects of one session version, byte for
// byte as json.Marshal(View(s, userID)) writes them, without reflection. The
// sanitised session is encoded once, in NewStateEncoder, cut into its fields
// with holes where the private parts go (private.go); each user's state
// splices in that user's own parts and null for the other's. Raw JSON values
// (the LLM outputs) are copied as they are when they are already compact and
// HTML-escaped, as values the judge encoded are; others are compacted as
// json.Marshal would. A raw value is a field of its own (its key ends the
// field before it) whose bytes are the value's encoding itself, not a copy:
// a version costs the KiB or two of its other fields, not the tens of KiB of
// LLM outputs it carries unchanged.
type StateEncoder struct {
	sess   *Session         // nil: IDLE
	fields []statedoc.Field // the sanitised session; nil for IDLE
}

// NewStateEncoder encodes the sanitised session of s; nil or an ended
// session gives the IDLE state. It fails only for a raw value that is not
// valid JSON, as json.Marshal would.
func NewStateEncoder(s *Session) (*StateEncoder, error) {
	if s == nil || s.Ended() {
		return &StateEncoder{}, nil
	}
	w := jsonWriter{raws: s.raws}
	w.session(s)
	if w.err != nil {
		return nil, w.err
	}
	return &StateEncoder{sess: s, fields: w.finish()}, nil
}

// AppendState appends the state object userID sees to dst.
func (e *StateEncoder) AppendState(dst []byte, userID string) []byte {
	phase, view := string(PhaseIdle), ViewIdle
	if e.sess != nil {
		phase, view = string(e.sess.Phase), ViewPhase(e.sess, userID)
	}
	if n := e.stateLen(userID); cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = append(dst, `{"phase":`...)
	dst = appendString(dst, phase)
	dst = append(dst, `,"myViewPhase":`...)
	dst = appendString(dst, view)
	dst = append(dst, `,"session":`...)
	dst = e.appendSession(dst, userID)
	return append(dst, '}')
}

// stateLen is at least the length of the state object userID sees, with
// room for a short suffix (an ack's closing brace): AppendState makes room
// for it at once, so that a state of 50 KiB is not copied again as it grows
// past its private parts.
func (e *StateEncoder) stateLen(userID string) int {
	n := 128
	if e.sess == nil {
		return n
	}
	viewer := docSide(sideOf(e.sess, userID))
	for _, f := range e.fields {
		n += len(f.Lit)
		for _, h := range f.Holes {
			if h.Owner == viewer {
				n += len(h.Val)
			}
		}
	}
	return n
}

// appendSession appends the sanitised session userID sees, null for IDLE.
func (e *StateEncoder) appendSession(dst []byte, userID string) []byte {
	if e.sess == nil {
		return append(dst, "null"...)
	}
	viewer := docSide(sideOf(e.sess, userID))
	for _, f := range e.fields {
		dst = statedoc.AppendField(dst, f, viewer)
	}
	return dst
}

// AppendSanitized appends Sanitize(s, userID) encoded as json.Marshal
// encodes it.
func AppendSanitized(dst []byte, s *Session, userID string) ([]byte, error) {
	w := jsonWriter{}
	w.session(s)
	if w.err != nil {
		return dst, w.err
	}
	e := StateEncoder{sess: s, fields: w.finish()}
	return e.appendSession(dst, userID), nil
}

// session appends the sanitised session of s, its private parts as holes.
func (w *jsonWriter) session(s *Session) {
	w.mark()
	w.str(`{"id":`, s.ID)
	w.mark()
	w.str(`,"coupleId":`, s.CoupleID)
	w.mark()
	w.str(`,"creatorId":`, s.CreatorID)
	w.mark()
	w.str(`,"partnerId":`, s.PartnerID)
	w.mark()
	w.str(`,"phase":`, string(s.Phase))
	w.mark()
	w.strPtr(`,"caseId":`, s.CaseID)
	w.mark()
	w.evidence(`,"evidence":{"creator":`, s.Creator, creatorSide)
	w.mark()
	w.evidence(`,"partner":`, s.Partner, partnerSide)
	w.mark()
	w.pair(`},"verdictAcceptances":`, s.Creator.VerdictAccepted, s.Partner.VerdictAccepted)
	w.mark()
	w.rawPrivate(rawVerdict, `,"verdict":`, s.Verdict, verdictHalves)
	w.mark()
	w.strPtr(`,"settlementRequested":`, s.SettlementRequested)
	w.mark()
	w.int(`,"createdAt":`, s.CreatedAt)
	w.mark()
	w.intPtr(`,"resolvedAt":`, s.ResolvedAt)
	w.mark()
	w.int(`,"addendumCount":`, int64(s.AddendumCount))
	w.mark()
	w.int(`,"addendumLimit":`, AddendumLimit)
	w.mark()
	w.int(`,"addendumRemaining":`, int64(max(AddendumLimit-s.AddendumCount, 0)))
	w.mark()
	w.raw(rawAnalysis, `,"analysis":`, s.Analysis)
	w.mark()
	w.raw(rawResolutions, `,"resolutions":`, s.Resolutions)
	w.mark()
	w.raw(rawIntensity, `,"assessedIntensity":`, s.AssessedIntensity)
	w.mark()
	w.rawPrivate(rawPriming, `,"primingContent":`, s.PrimingContent, primingHalves)
	w.mark()
	w.raw(rawJointMenu, `,"jointMenu":`, s.JointMenu)
	w.mark()
	w.pair(`,"primingReady":`, s.Creator.PrimingReady, s.Partner.PrimingReady)
	w.mark()
	w.pair(`,"jointReady":`, s.Creator.JointReady, s.Partner.JointReady)
	w.mark()
	w.picks(`,"resolutionPicks":`, &Picks{UserA: s.UserAResolutionPick, UserB: s.UserBResolutionPick})
	w.mark()
	w.raw(rawHybrid, `,"hybridResolution":`, s.HybridResolution)
	w.mark()
	w.raw(rawFinal, `,"finalResolution":`, s.FinalResolution)
	w.mark()
	w.picks(`,"mismatchOriginal":`, s.MismatchOriginal)
	w.mark()
	w.picks(`,"mismatchPicks":`, s.MismatchPicks)
	w.mark()
	w.bool(`,"hybridResolutionPending":`, s.HybridResolutionPending)
	w.mark()
	w.str(`,"judgeType":`, s.JudgeType)
	w.mark()
	w.b = append(w.b, `,"version":`...)
	w.b = strconv.AppendUint(w.b, s.Version, 10)
	w.b = append(w.b, '}')
}

// jsonWriter appends JSON cut into fields; the first error sticks. The
// fields written here have their bytes in b; a raw value's fields keep the
// bytes of its encoding (rawPrivate). Private parts are left out of the
// bytes and recorded as the fields' holes.
type jsonWriter struct {
	b      []byte
	fields []statedoc.Field
	// starts is, per field, where its bytes start in b; -1 for a raw
	// value's field.
	starts []int
	err    error
	// raws, when not nil, remembers the raw values' encodings across a
	// session's versions.
	raws *rawMemo
}

// ownFieldBytes is the room b starts with: the session without its raw
// values and private parts (keys, ids, flags, picks) is about 1 KiB.
const ownFieldBytes = 2048

// sessionFields is how many fields session writes: the slices of fields
// start that large.
const sessionFields = 31 + 6 + 2*privatePieces

// mark starts a field here.
func (w *jsonWriter) mark() {
	if w.b == nil {
		w.b = make([]byte, 0, ownFieldBytes)
		w.fields = make([]statedoc.Field, 0, sessionFields)
		w.starts = make([]int, 0, sessionFields)
	}
	w.fields = append(w.fields, statedoc.Field{})
	w.starts = append(w.starts, len(w.b))
}

// hole records val, owner's private part, at this point of the current
// field, which is one written here.
func (w *jsonWriter) hole(owner side, val []byte) {
	i := len(w.fields) - 1
	w.fields[i].Holes = append(w.fields[i].Holes, statedoc.Hole{At: len(w.b) - w.starts[i], Owner: docSide(owner), Val: val})
}

// rawField adds a field whose bytes are lit, kept elsewhere.
func (w *jsonWriter) rawField(lit []byte, holes []statedoc.Hole) {
	w.fields = append(w.fields, statedoc.Field{Lit: lit[:len(lit):len(lit)], Holes: holes})
	w.starts = append(w.starts, -1)
}

// finish returns the fields, those written here cut from b.
func (w *jsonWriter) finish() []statedoc.Field {
	end := len(w.b)
	for i := len(w.fields) - 1; i >= 0; i-- {
		if at := w.starts[i]; at >= 0 {
			w.fields[i].Lit = w.b[at:end:end]
			end = at
		}
	}
	return w.fields
}

func (w *jsonWriter) str(key, s string) {
	w.b = append(w.b, key...)
	w.b = appendString(w.b, s)
}

func (w *jsonWriter) strPtr(key string, s *string) {
	if s == nil {
		w.b = append(append(w.b, key...), "null"...)
		return
	}
	w.str(key, *s)
}

func (w *jsonWriter) int(key string, v int64) {
	w.b = strconv.AppendInt(append(w.b, key...), v, 10)
}

func (w *jsonWriter) intPtr(key string, v *int64) {
	if v == nil {
		w.b = append(append(w.b, key...), "null"...)
		return
	}
	w.int(key, *v)
}

func (w *jsonWriter) bool(key string, v bool) {
	w.b = strconv.AppendBool(append(w.b, key...), v)
}

func (w *jsonWriter) pair(key string, creator, partner bool) {
	w.b = append(w.b, key...)
	w.bool(`{"creator":`, creator)
	w.bool(`,"partner":`, partner)
	w.b = append(w.b, '}')
}

func (w *jsonWriter) picks(key string, p *Picks) {
	if p == nil {
		w.b = append(append(w.b, key...), "null"...)
		return
	}
	w.b = append(w.b, key...)
	w.strPtr(`{"userA":`, p.UserA)
	w.strPtr(`,"userB":`, p.UserB)
	w.b = append(w.b, '}')
}

// evidence appends the evidence of u, whose texts are owner's private parts.
func (w *jsonWriter) evidence(key string, u UserState, owner side) {
	w.b = append(w.b, key...)
	w.bool(`{"submitted":`, u.EvidenceSubmitted)
	w.b = append(w.b, `,"facts":`...)
	w.private(owner, u.Evidence)
	w.b = append(w.b, `,"feelings":`...)
	w.private(owner, u.Feelings)
	w.b = append(w.b, '}')
}

// nullJSON is the value of an absent private part; never written to.
var nullJSON = []byte("null")

// private records the string s, or null, as a hole for owner.
func (w *jsonWriter) private(owner side, s *string) {
	val := nullJSON
	if s != nil {
		val = appendString(nil, *s)
	}
	w.hole(owner, val)
}

// raw appends a raw JSON value, null when it holds none (orNull): the key to
// the current field, the value as a field of its own.
func (w *jsonWriter) raw(slot rawSlot, key string, raw json.RawMessage) {
	w.rawPrivate(slot, key, raw, [2][]string{})
}

// privatePieces is how many fields a raw value with private halves takes:
// it is cut after each of its two private parts, so that every field's
// bytes are a slice of the value's encoding. The count is fixed, whatever
// the value holds, so that a version that replaces the value still differs
// from the one before only in these fields (a delta, home/statedocs.go).
const privatePieces = 3

// rawPrivate appends a raw JSON value, null when it holds none (orNull), the
// values at the halves' paths as holes: the key to the current field, the
// value as a field of its own, or as privatePieces fields when it has
// halves. slot is the value's place in the memo.
func (w *jsonWriter) rawPrivate(slot rawSlot, key string, raw json.RawMessage, halves [2][]string) {
	w.b = append(w.b, key...)
	enc, ok := w.raws.get(slot, raw)
	if !ok {
		enc = rawEncoding{src: raw, c: w.compact(raw)}
		if enc.c != nil {
			enc.ranges = privateRanges(enc.c, halves)
		}
		if w.err == nil {
			w.raws.put(slot, enc)
		}
	}
	pieces := 1
	if len(halves[0])+len(halves[1]) > 0 {
		pieces = privatePieces
	}
	lit := nullJSON
	at, rs := 0, enc.ranges
	if enc.c != nil {
		lit = enc.c
		for ; len(rs) > 0 && pieces > 1; rs, pieces = rs[1:], pieces-1 {
			r := rs[0]
			w.rawField(lit[at:r.start], []statedoc.Hole{{At: r.start - at, Owner: docSide(r.owner), Val: lit[r.start:r.end]}})
			at = r.end
		}
	}
	w.rawField(cutRanges(lit, at, rs))
	for range pieces - 1 {
		w.rawField(nil, nil)
	}
}

// cutRanges returns c[at:] with the ranges rs (in order, all after at) cut
// out, and the holes they leave. Without ranges it is c[at:] itself; with
// some (a value that repeats a private member, more than privatePieces
// allow for) a copy.
func cutRanges(c []byte, at int, rs []privateRange) ([]byte, []statedoc.Hole) {
	if len(rs) == 0 {
		return c[at:], nil
	}
	lit := make([]byte, 0, len(c)-at)
	holes := make([]statedoc.Hole, 0, len(rs))
	for _, r := range rs {
		lit = append(lit, c[at:r.start]...)
		holes = append(holes, statedoc.Hole{At: len(lit), Owner: docSide(r.owner), Val: c[r.start:r.end]})
		at = r.end
	}
	return append(lit, c[at:]...), holes
}

// rawSlot is the place of one of a session's raw values in its rawMemo.
type rawSlot int

const (
	rawVerdict rawSlot = iota
	rawAnalysis
	rawResolutions
	rawIntensity
	rawPriming
	rawJointMenu
	rawHybrid
	rawFinal
	rawSlots
)

// rawMemo remembers, for each raw value of a session, the last encoding
// made of it: the compacted value and its private ranges. The raw values
// (the LLM outputs, tens of KiB) are shared by the session's versions and
// never changed in place (Session), so a version encodes again only the
// values a transition replaced, instead of scanning every one of them at
// every version (docs/decisions.md, issue 11). A value is known by where
// its bytes are and how many there are. Safe for concurrent use: a state
// read encodes an older version outside the session's lock.
type rawMemo struct {
	mu    sync.Mutex
	slots [rawSlots]rawEncoding
}

// rawEncoding is what rawPrivate made of the raw value src: c, nil for no
// value, and the private ranges of c.
type rawEncoding struct {
	src    json.RawMessage
	c      []byte
	ranges []privateRange
}

// get returns the encoding of raw in slot, if m remembers it.
func (m *rawMemo) get(slot rawSlot, raw json.RawMessage) (rawEncoding, bool) {
	if m == nil {
		return rawEncoding{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.slots[slot]
	if len(e.src) != len(raw) || unsafe.SliceData(e.src) != unsafe.SliceData(raw) {
		return rawEncoding{}, false
	}
	return e, true
}

// put remembers e in slot.
func (m *rawMemo) put(slot rawSlot, e rawEncoding) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.slots[slot] = e
	m.mu.Unlock()
}

// compact is raw as json.Marshal writes a json.RawMessage, nil when it holds
// no value.
func (w *jsonWriter) compact(raw json.RawMessage) []byte {
	switch {
	case isNull(raw):
		return nil
	case compactEscaped(raw):
		return raw
	}
	b, err := json.Marshal(raw) // compacts and escapes
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("court: encode state: %w", err)
	}
	if isNull(b) {
		return nil
	}
	return b
}

// compactEscaped reports whether raw, valid JSON, is already as json.Marshal
// writes a json.RawMessage: no whitespace outside strings, and <, >, &, U+2028
// and U+2029 escaped.
func compactEscaped(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			end, ok := stringEnd(raw, i+1)
			if !ok {
				return false
			}
			i = end
		}
	}
	return true
}

// stringSpecial marks the bytes stringEnd looks at.
var stringSpecial = [256]bool{'"': true, '\\': true, '<': true, '>': true, '&': true, 0xE2: true}

// stringEnd returns the index of the quote that ends the string whose
// contents start at raw[i], and whether the string is escaped as json.Marshal
// escapes it.
func stringEnd(raw []byte, i int) (int, bool) {
	for ; i < len(raw); i++ {
		c := raw[i]
		if !stringSpecial[c] {
			continue
		}
		switch c {
		case '"':
			return i, true
		case '\\':
			i++
		case 0xE2:
			if i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xA8 {
				return i, false
			}
		default: // <, >, &
			return i, false
		}
	}
	return i, true
}

const hexDigits = "0123456789abcdef"

// htmlSafe marks the ASCII bytes json.Marshal writes unescaped in a string.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string exactly as json.Marshal does:
// HTML-escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
