package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The load generator reads court:state documents of 20-46 KiB a few hundred
// times a second per core; decoding each fully cost it more CPU than the
// servers it measures. decodeState walks the document once without
// validating or allocating for what it skips, and decodes only the fields of
// State (the phase, the view and the session's few flags), each a small value.

var errSyntax = errors.New("loadgen: malformed json")

// skipWS returns the index of the first non-space byte of b at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"':
// the next quote not escaped by an odd run of backslashes.
func skipString(b []byte, i int) (int, error) {
	for i++; ; {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return 0, errSyntax
		}
		i += q
		bs := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			bs++
		}
		i++
		if bs%2 == 0 {
			return i, nil
		}
	}
}

// skipValue returns the span [start, end) of the value at or after i.
func skipValue(b []byte, i int) (start, end int, err error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, 0, errSyntax
	}
	start = i
	switch b[i] {
	case '"':
		end, err = skipString(b, i)
		return start, end, err
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i, err = skipString(b, i); err != nil {
					return 0, 0, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return start, i + 1, nil
				}
			}
			i++
		}
		return 0, 0, errSyntax
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
			i++
		}
		if i == start {
			return 0, 0, errSyntax
		}
		return start, i, nil
	}
}

// eachMember calls fn with the raw key (quotes included) and the value of
// each member of the object b.
func eachMember(b []byte, fn func(key, val []byte) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errSyntax
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		ks, ke, err := skipValue(b, i)
		if err != nil || b[ks] != '"' {
			return errSyntax
		}
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return errSyntax
		}
		vs, ve, err := skipValue(b, i+1)
		if err != nil {
			return err
		}
		if err := fn(b[ks:ke], b[vs:ve]); err != nil {
			return err
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return errSyntax
		}
		if b[i] == '}' {
			return nil
		}
		if b[i] != ',' {
			return errSyntax
		}
		i++
	}
}

// decodeEvent reads a Socket.IO event's arguments, `["name",arg,...]`, and
// returns the name (still quoted) and the first argument.
func decodeEvent(b []byte) (name, arg []byte, err error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, nil, errSyntax
	}
	ns, ne, err := skipValue(b, i+1)
	if err != nil || b[ns] != '"' {
		return nil, nil, errSyntax
	}
	i = skipWS(b, ne)
	if i >= len(b) || b[i] != ',' {
		return nil, nil, errSyntax
	}
	as, ae, err := skipValue(b, i+1)
	if err != nil {
		return nil, nil, err
	}
	return b[ns:ne], b[as:ae], nil
}

// decodeState decodes the fields of State from a court:state document,
// skipping the rest unparsed.
func decodeState(b []byte) (State, error) {
	var st State
	err := eachMember(b, func(key, val []byte) error {
		switch string(key) {
		case `"phase"`:
			return json.Unmarshal(val, &st.Phase)
		case `"myViewPhase"`:
			return json.Unmarshal(val, &st.MyViewPhase)
		case `"session"`:
			if string(val) == "null" {
				return nil
			}
			st.Session = &Session{}
			return decodeSession(val, st.Session)
		}
		return nil
	})
	if err != nil {
		return State{}, fmt.Errorf("decode court:state: %w", err)
	}
	return st, nil
}

func decodeSession(b []byte, s *Session) error {
	return eachMember(b, func(key, val []byte) error {
		var dst any
		switch string(key) {
		case `"id"`:
			dst = &s.ID
		case `"version"`:
			dst = &s.Version
		case `"evidence"`:
			dst = &s.Evidence
		case `"primingReady"`:
			dst = &s.PrimingReady
		case `"jointReady"`:
			dst = &s.JointReady
		case `"verdictAcceptances"`:
			dst = &s.VerdictAcceptances
		case `"resolutionPicks"`:
			dst = &s.ResolutionPicks
		default:
			return nil
		}
		return json.Unmarshal(val, dst)
	})
}
