package edge

import (
	"encoding/json"
	"net/http"
	"strings"

	"courtmesh/protocol"
)

// What the edge adds for the app's checks, which the home runs
// (court-protocol.md §2.5, §5): the caller's Accept-Language on a serve.
// The REST shapes of the checks' refusals are protocol.RESTRefusal's.

// maxLangHeader bounds the Accept-Language kept per socket.
const maxLangHeader = 16

// acceptLanguage is the first entry of r's Accept-Language, bounded.
func acceptLanguage(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first = strings.TrimSpace(first)
	if len(first) > maxLangHeader {
		first = first[:maxLangHeader]
	}
	return first
}

// withLanguage returns a serve's payload with "acceptLanguage" set to lang
// (the home uses it when the creator's profile has no language); any other
// payload, or one that is not an object, is returned as it is.
func withLanguage(event string, payload json.RawMessage, lang string) json.RawMessage {
	if event != protocol.Serve || lang == "" {
		return payload
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) != nil || fields == nil {
		return payload
	}
	fields["acceptLanguage"], _ = json.Marshal(lang) // a string always encodes
	out, err := json.Marshal(fields)
	if err != nil {
		return payload
	}
	return out
}
