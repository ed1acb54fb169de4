package court

import "encoding/json"

// The LLM outputs are kept as raw JSON; these helpers read them with
// JavaScript's semantics, where nil stands for undefined.

// fields returns the members of the JSON object raw, or nil if raw is not
// an object.
func fields(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
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
