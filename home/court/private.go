package court

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Private parts of the sanitised session (court-protocol.md §6 R17). Each
// user sees only their own:
//
//   - evidence.<other>.facts and evidence.<other>.feelings, the other's raw
//     evidence text (submitted stays visible: the waiting views need it);
//   - primingContent.<other>, the other's private priming (userA is the
//     creator's, userB the partner's);
//   - verdict._meta.primingContent.<other>, the same priming repeated in the
//     verdict envelope (§3.5 T10).
//
// The other's part is sent as null. Everything else is shared.

// side is whose private part a value is, or whose view is being built.
type side int

const (
	creatorSide side = iota
	partnerSide
)

// sideOf is the side userID sees; a user who is not the creator is treated
// as the partner, as ViewPhase does.
func sideOf(s *Session, userID string) side {
	if userID == s.CreatorID {
		return creatorSide
	}
	return partnerSide
}

// Paths of the private halves inside the raw values of the session.
var (
	primingHalves = [2][]string{creatorSide: {"userA"}, partnerSide: {"userB"}}
	verdictHalves = [2][]string{
		creatorSide: {"_meta", "primingContent", "userA"},
		partnerSide: {"_meta", "primingContent", "userB"},
	}
)

// privateRange is a value inside a raw JSON value that only owner may see.
type privateRange struct {
	start, end int
	owner      side
}

// privateRanges returns the ranges of compact JSON c at either of the two
// halves' paths, in order. A path that is absent, or whose parents are not
// objects, has no range.
func privateRanges(c []byte, halves [2][]string) []privateRange {
	var out []privateRange
	for owner, path := range halves {
		for _, r := range memberValues(c, path, 0, nil) {
			out = append(out, privateRange{r[0], r[1], side(owner)})
		}
	}
	slices.SortFunc(out, func(a, b privateRange) int { return a.start - b.start })
	return out
}

// privateView returns compact JSON c as viewer sees it: the values at the
// other side's path replaced by null. c itself when there is none.
func privateView(c []byte, halves [2][]string, viewer side) []byte {
	rs := privateRanges(c, halves)
	if !slices.ContainsFunc(rs, func(r privateRange) bool { return r.owner != viewer }) {
		return c
	}
	out := make([]byte, 0, len(c))
	at := 0
	for _, r := range rs {
		out = append(out, c[at:r.start]...)
		if r.owner == viewer {
			out = append(out, c[r.start:r.end]...)
		} else {
			out = append(out, "null"...)
		}
		at = r.end
	}
	return append(out, c[at:]...)
}

// compact returns raw as json.Marshal writes a json.RawMessage (compact and
// HTML-escaped), nil for no value, or raw itself if it is not valid JSON,
// for the encoder to report.
func compact(raw json.RawMessage) json.RawMessage {
	switch {
	case isNull(raw):
		return nil
	case compactEscaped(raw):
		return raw
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return raw
	}
	return b
}

// memberValues appends the ranges, offset by base, of the values at path in
// compact valid JSON c: every member of the top-level object named path[0]
// (JSON parsers keep the last of duplicate keys, so all are covered), then
// path[1:] inside each.
func memberValues(c []byte, path []string, base int, out [][2]int) [][2]int {
	if len(c) == 0 || c[0] != '{' || len(path) == 0 {
		return out
	}
	for i := 1; i < len(c) && c[i] != '}'; {
		keyEnd := skipValue(c, i)
		valStart := keyEnd + 1 // past ':'
		valEnd := skipValue(c, valStart)
		if valEnd > len(c) {
			return out
		}
		if keyIs(c[i:keyEnd], path[0]) {
			if len(path) == 1 {
				out = append(out, [2]int{base + valStart, base + valEnd})
			} else {
				out = memberValues(c[valStart:valEnd], path[1:], base+valStart, out)
			}
		}
		i = valEnd
		if i < len(c) && c[i] == ',' {
			i++
		}
	}
	return out
}

// keyIs reports whether the JSON string lit decodes to key.
func keyIs(lit []byte, key string) bool {
	if !slices.Contains(lit, '\\') {
		return len(lit) == len(key)+2 && string(lit[1:len(lit)-1]) == key
	}
	var k string
	return json.Unmarshal(lit, &k) == nil && k == key
}

// skipValue returns the index just past the value starting at c[i], in
// compact valid JSON.
func skipValue(c []byte, i int) int {
	if i >= len(c) {
		return len(c) + 1
	}
	switch c[i] {
	case '"':
		return skipString(c, i+1)
	case '{', '[':
		depth := 0
		for ; i < len(c); i++ {
			switch c[i] {
			case '"':
				i = skipString(c, i+1) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(c) + 1
	}
	for ; i < len(c); i++ {
		if c[i] == ',' || c[i] == '}' || c[i] == ']' {
			return i
		}
	}
	return i
}

// skipString returns the index past the quote that ends the string whose
// contents start at c[i].
func skipString(c []byte, i int) int {
	for start := i; i < len(c); {
		q := bytes.IndexByte(c[i:], '"')
		if q < 0 {
			break
		}
		q += i
		escapes := 0 // the backslashes just before the quote
		for k := q - 1; k >= start && c[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
	return len(c) + 1
}
