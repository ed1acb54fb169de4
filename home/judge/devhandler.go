package judge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// maxRequest bounds a request body: two cases at the input limits of
// court-protocol.md §7.1 plus the phase 1 output are far below it.
const maxRequest = 1 << 20

// NewDevHandler serves dev over the judge service contract (docs/judge.md):
// POST PathPhase1, PathPhase2 and PathHybrid, and GET /healthz. A request
// must carry its Idempotency-Key; dev is deterministic, so a repeated
// request gets the same answer.
func NewDevHandler(dev *Dev) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+PathPhase1, serveStep(dev.Phase1, func(r Phase1Request) string {
		return IdempotencyKey(r.SessionID, r.Version, StepPhase1)
	}))
	mux.Handle("POST "+PathPhase2, serveStep(dev.Phase2, func(r Phase2Request) string {
		return IdempotencyKey(r.SessionID, r.Version, StepPhase2)
	}))
	mux.Handle("POST "+PathHybrid, serveStep(dev.Hybrid, func(r HybridRequest) string {
		return IdempotencyKey(r.SessionID, r.Version, StepHybrid)
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "judge": DevJudgeName})
	})
	return mux
}

// serveStep decodes a Req, checks its idempotency key, calls call and writes
// the result or the error.
func serveStep[Req, Res any](call func(context.Context, Req) (Res, error), key func(Req) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest))
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "malformed request body: " + err.Error()})
			return
		}
		if want := key(req); r.Header.Get(HeaderIdempotencyKey) != want {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: HeaderIdempotencyKey + " must be " + want})
			return
		}
		res, err := call(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

func writeError(w http.ResponseWriter, err error) {
	ie, isInput := errors.AsType[*InputError](err)
	switch {
	case isInput:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: ie.Error(), Code: codeInvalidInput})
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "request cancelled"})
	default:
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Judge", DevJudgeName)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}
