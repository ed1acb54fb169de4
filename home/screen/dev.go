package screen

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// DevName names the dev screener in logs and its /healthz.
const DevName = "dev-screen (deterministic, not a real injection detector)"

// devPatterns are the phrases Dev blocks, lowercased: a fixed list that
// makes the BLOCK path testable. It is no defence against a real attacker.
var devPatterns = []string{
	"ignore previous instructions",
	"ignore all previous instructions",
	"disregard the above",
	"system prompt",
	"you are now",
	"</s>",
	"[[block]]",
}

// Dev is the deterministic dev screener: BLOCK when a field contains one of
// devPatterns (case-insensitive), CHALLENGE when a field contains
// "[[challenge]]" and no challenge token was sent, REVIEW when one contains
// "[[review]]", ALLOW otherwise.
type Dev struct{}

var _ Screener = Dev{}

// Screen implements Screener.
func (Dev) Screen(_ context.Context, req Request) (Decision, error) {
	review := false
	for _, v := range req.Fields {
		low := strings.ToLower(v)
		for _, p := range devPatterns {
			if strings.Contains(low, p) {
				return Decision{Action: Block, Reason: "dev pattern " + p}, nil
			}
		}
		if strings.Contains(low, "[[challenge]]") && req.ChallengeToken == "" {
			return Decision{Action: Challenge, RetryAfterMs: 1000, Challenge: json.RawMessage(`{"type":"dev"}`), Reason: "dev challenge"}, nil
		}
		review = review || strings.Contains(low, "[[review]]")
	}
	if review {
		return Decision{Action: Review, Reason: "dev review"}, nil
	}
	return Decision{Action: Allow}, nil
}

// maxRequest bounds a request body: the four text fields at their limits
// are far below it.
const maxRequest = 256 << 10

// NewDevHandler serves s over the screening contract: POST PathScreen and
// GET /healthz.
func NewDevHandler(s Screener) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathScreen, func(w http.ResponseWriter, r *http.Request) {
		var req Request
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest)).Decode(&req); err != nil || req.Surface == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed request body"})
			return
		}
		d, err := s.Screen(r.Context(), req)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "screen": DevName})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
