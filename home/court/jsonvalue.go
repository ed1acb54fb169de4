package court

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// The LLM outputs are kept as raw JSON; these helpers read them with
// JavaScript's semantics, where nil stands for undefined.

// fields returns the members of the JSON object raw, or nil if raw is not
// a valid JSON object: what json.Unmarshal into a map[string]json.RawMessage
// gives. For input from outside the session; the session's own values are
// read with members.
func fields(raw json.RawMessage) map[string]json.RawMessage {
	if !json.Valid(raw) {
		return nil
	}
	return members(raw)
}

// members is fields for raw JSON known to be valid: a raw value of a
// Session (valid by its invariant, session.go) or a part of one. It reads
// raw once, without validating or decoding it: the values are slices of
// raw, not copies. The LLM outputs are parsed this way on the transitions
// that read them (a verdict of 50 KiB in well under a millisecond) instead
// of with json.Unmarshal, which validated and copied them again at every
// level.
func members(raw json.RawMessage) map[string]json.RawMessage {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil
	}
	m := make(map[string]json.RawMessage)
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] == '"'; {
		keyEnd := skipString(raw, i+1)
		if keyEnd > len(raw) {
			return m
		}
		key := memberKey(raw[i:keyEnd])
		start := skipSpace(raw, skipSpace(raw, keyEnd)+1) // past ':'
		end := skipSpacedValue(raw, start)
		if end > len(raw) {
			return m
		}
		m[key] = raw[start:end:end]
		if i = skipSpace(raw, end); i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return m
}

// elements returns the elements of raw, a JSON array known to be valid (as
// for members), or nil if it is not an array.
func elements(raw json.RawMessage) []json.RawMessage {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil
	}
	var out []json.RawMessage
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] != ']'; {
		end := skipSpacedValue(raw, i)
		if end > len(raw) {
			return out
		}
		out = append(out, raw[i:end:end])
		if i = skipSpace(raw, end); i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return out
}

// stringMember returns the string member key of raw, a JSON object known to
// be valid (as for members), matched as json.Unmarshal matches a struct
// field: exactly, else without regard to case; "" if there is none or it
// is not a string.
func stringMember(raw json.RawMessage, key string) string {
	m := members(raw)
	v, ok := m[key]
	for k, x := range m {
		if !ok && strings.EqualFold(k, key) {
			v, ok = x, true
		}
	}
	var s string
	if !ok || json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// memberKey decodes the JSON string lit, a member's key.
func memberKey(lit []byte) string {
	if !slices.Contains(lit, '\\') && utf8.Valid(lit) {
		return string(lit[1 : len(lit)-1])
	}
	var k string
	_ = json.Unmarshal(lit, &k)
	return k
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(c []byte, i int) int {
	for i < len(c) && (c[i] == ' ' || c[i] == '\t' || c[i] == '\n' || c[i] == '\r') {
		i++
	}
	return i
}

// skipSpacedValue is skipValue for valid JSON that may hold whitespace: a
// number or literal ends at the first whitespace too.
func skipSpacedValue(c []byte, i int) int {
	if i < len(c) && c[i] != '"' && c[i] != '{' && c[i] != '[' {
		for ; i < len(c); i++ {
			switch c[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
	return skipValue(c, i)
}

// appendObject appends the object of members m as json.Marshal encodes a
// map[string]json.RawMessage: keys sorted, each value compacted and
// HTML-escaped (as they are when already so), nil as null.
func appendObject(dst []byte, m map[string]json.RawMessage) []byte {
	n := 2
	for k, v := range m {
		n += len(k) + len(v) + 8
	}
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendRaw(append(appendString(dst, k), ':'), m[k])
	}
	return append(dst, '}')
}

// appendRaw appends raw, valid JSON, as json.Marshal writes a
// json.RawMessage: nil (or empty) as null, else compacted and HTML-escaped
// (copied as it is when already so).
func appendRaw(dst []byte, raw json.RawMessage) []byte {
	switch {
	case len(raw) == 0:
		return append(dst, "null"...)
	case compactEscaped(raw):
		return append(dst, raw...)
	}
	return append(dst, mustJSON(raw)...)
}

// truthy reports whether raw is a JavaScript truthy value.
func truthy(raw json.RawMessage) bool {
	switch string(raw) {
	case "", "null", "false", "0", `""`:
		return false
	}
	return true
}

// or is JavaScript's a || b || ...: the first truthy value, else the last.
func or(vals ...json.RawMessage) json.RawMessage {
	for _, v := range vals {
		if truthy(v) {
			return v
		}
	}
	return vals[len(vals)-1]
}

// jsonString returns s as a JSON string.
func jsonString(s string) json.RawMessage { return mustJSON(s) }

// text returns a truthy JSON value as text: a string's value, or any other
// value's JSON; nil for a falsy one.
func text(raw json.RawMessage) *string {
	if !truthy(raw) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	return &s
}
