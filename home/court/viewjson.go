package court

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// StateEncoder writes the state objects of one session version, byte for
// byte as json.Marshal(View(s, userID)) writes them, without reflection. The
// sanitised session is encoded once, in NewStateEncoder, with holes where
// the private parts go (private.go); each user's state splices in that
// user's own parts and null for the other's. Raw JSON values (the LLM
// outputs) are copied as they are when they are already compact and
// HTML-escaped, as values the judge encoded are; others are compacted as
// json.Marshal would.
type StateEncoder struct {
	sess    *Session // nil: IDLE
	session []byte   // the sanitised session without its private parts; nil for IDLE
	holes   []hole   // where the private parts go, in order
	marks   []mark   // where each field of the session starts
}

// hole is a private part of the encoded session: val at offset at, for
// owner's view only; the other user's view has null there.
type hole struct {
	at    int
	owner side
	val   []byte
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
	return &StateEncoder{sess: s, session: w.b, holes: w.holes, marks: w.marks}, nil
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
	n := len(e.session) + 128
	if e.sess == nil {
		return n
	}
	viewer := sideOf(e.sess, userID)
	for _, h := range e.holes {
		if h.owner == viewer {
			n += len(h.val)
		}
	}
	return n
}

// appendSession appends the sanitised session userID sees, null for IDLE.
func (e *StateEncoder) appendSession(dst []byte, userID string) []byte {
	if e.sess == nil {
		return append(dst, "null"...)
	}
	viewer := sideOf(e.sess, userID)
	at := 0
	for _, h := range e.holes {
		dst = append(dst, e.session[at:h.at]...)
		if h.owner == viewer {
			dst = append(dst, h.val...)
		} else {
			dst = append(dst, "null"...)
		}
		at = h.at
	}
	return append(dst, e.session[at:]...)
}

// AppendSanitized appends Sanitize(s, userID) encoded as json.Marshal
// encodes it.
func AppendSanitized(dst []byte, s *Session, userID string) ([]byte, error) {
	w := jsonWriter{}
	w.session(s)
	if w.err != nil {
		return dst, w.err
	}
	e := StateEncoder{sess: s, session: w.b, holes: w.holes}
	return e.appendSession(dst, userID), nil
}

// session appends the sanitised session of s, its private parts as holes.
func (w *jsonWriter) session(s *Session) {
	w.grow(s)
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

// jsonWriter appends JSON; the first error sticks. Private parts are left
// out of b and recorded in holes; marks cut b into the session's fields.
type jsonWriter struct {
	b     []byte
	holes []hole
	marks []mark
	err   error
	// raws, when not nil, remembers the raw values' encodings across a
	// session's versions.
	raws *rawMemo
}

// mark is where a field of the encoded session starts: its offset in the
// encoding and the index of its first hole.
type mark struct{ at, hole int }

// mark records that a field starts here.
func (w *jsonWriter) mark() { w.marks = append(w.marks, mark{len(w.b), len(w.holes)}) }

// grow makes room for the sanitised session s at once.
func (w *jsonWriter) grow(s *Session) {
	n := 1024 + len(s.Verdict) + len(s.Analysis) + len(s.Resolutions) + len(s.AssessedIntensity) +
		len(s.PrimingContent) + len(s.JointMenu) + len(s.HybridResolution) + len(s.FinalResolution)
	for _, u := range []UserState{s.Creator, s.Partner} {
		if u.Evidence != nil {
			n += len(*u.Evidence) + len(*u.Evidence)/8
		}
		if u.Feelings != nil {
			n += len(*u.Feelings) + len(*u.Feelings)/8
		}
	}
	if cap(w.b)-len(w.b) < n {
		w.b = append(make([]byte, 0, len(w.b)+n), w.b...)
	}
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

// private records the string s, or null, as a hole for owner.
func (w *jsonWriter) private(owner side, s *string) {
	val := []byte("null")
	if s != nil {
		val = appendString(nil, *s)
	}
	w.holes = append(w.holes, hole{len(w.b), owner, val})
}

// raw appends a raw JSON value, null when it holds none (orNull).
func (w *jsonWriter) raw(slot rawSlot, key string, raw json.RawMessage) {
	w.rawPrivate(slot, key, raw, [2][]string{})
}

// rawPrivate appends a raw JSON value, null when it holds none (orNull), the
// values at the halves' paths as holes. slot is the value's place in the
// memo.
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
	if enc.c == nil {
		w.b = append(w.b, "null"...)
		return
	}
	at := 0
	for _, r := range enc.ranges {
		w.b = append(w.b, enc.c[at:r.start]...)
		w.holes = append(w.holes, hole{len(w.b), r.owner, enc.c[r.start:r.end]})
		at = r.end
	}
	w.b = append(w.b, enc.c[at:]...)
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
