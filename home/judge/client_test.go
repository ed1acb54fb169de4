package judge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/judge"
)

// newClient returns an HTTPClient for srv with short test durations.
func newClient(t *testing.T, baseURL string, cfg judge.Config) *judge.HTTPClient {
	t.Helper()
	cfg.BaseURL = baseURL
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	if cfg.HybridBackoff == 0 {
		cfg.HybridBackoff = time.Millisecond
	}
	c, err := judge.NewHTTPClient(cfg)
	require.NoError(t, err)
	return c
}

func hybridRequest(t *testing.T, d court.Deliberation) judge.HybridRequest {
	t.Helper()
	var rs []judge.Resolution
	require.NoError(t, json.Unmarshal(d.Resolutions, &rs))
	return judge.HybridRequest{SessionID: "sess-1", Version: 8, Language: "en", Analysis: d.Analysis, PickA: rs[0], PickB: rs[2]}
}

func TestHTTPClientRoundTrip(t *testing.T) {
	t.Parallel()
	dev := newDev(t, judge.DevConfig{})
	srv := server(t, judge.NewDevHandler(dev))
	client := newClient(t, srv.URL, judge.Config{Client: srv.Client()})
	c := sampleCase()
	c.Addenda = []judge.Addendum{{From: "userB", Text: "I forgot to say: the dog was sick."}}

	remote := deliberate(t, client, c)
	local := deliberate(t, dev, c)
	require.JSONEq(t, string(local.Analysis), string(remote.Analysis))
	require.JSONEq(t, string(local.Resolutions), string(remote.Resolutions))
	require.JSONEq(t, string(local.AssessedIntensity), string(remote.AssessedIntensity))
	require.JSONEq(t, string(local.HistoricalContext), string(remote.HistoricalContext))
	require.JSONEq(t, string(local.PrimingContent), string(remote.PrimingContent))
	require.JSONEq(t, string(local.JointMenu), string(remote.JointMenu))

	req := hybridRequest(t, remote)
	got, err := client.Hybrid(testCtx(t), req)
	require.NoError(t, err)
	want, err := dev.Hybrid(testCtx(t), req)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestHTTPClientIdempotencyKey(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var keys []string
	dev := judge.NewDevHandler(newDev(t, judge.DevConfig{}))
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.URL.Path+" "+r.Header.Get(judge.HeaderIdempotencyKey))
		mu.Unlock()
		dev.ServeHTTP(w, r)
	}))
	client := newClient(t, srv.URL, judge.Config{Client: srv.Client()})
	d := deliberate(t, client, sampleCase())
	_, err := client.Hybrid(testCtx(t), hybridRequest(t, d))
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{
		"/v1/deliberate/phase1 sess-1:7:phase1",
		"/v1/deliberate/phase2 sess-1:7:phase2",
		"/v1/hybrid sess-1:8:hybrid",
	}, keys)
}

func TestHTTPClientRetriesServerErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			dev := judge.NewDevHandler(newDev(t, judge.DevConfig{}))
			srv := server(t, counting(&n, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Load() < 3 {
					http.Error(w, `{"error":"model overloaded"}`, status)
					return
				}
				dev.ServeHTTP(w, r)
			})))
			client := newClient(t, srv.URL, judge.Config{Client: srv.Client()})
			_, err := client.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
			require.NoError(t, err)
			require.EqualValues(t, 3, n.Load())
		})
	}
}

func TestHTTPClientGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := server(t, counting(&n, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"down for maintenance"}`))
	})))
	client := newClient(t, srv.URL, judge.Config{Client: srv.Client(), Attempts: 2})
	_, err := client.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
	se, ok := errors.AsType[*judge.StatusError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusServiceUnavailable, se.Status)
	require.Equal(t, "down for maintenance", se.Message)
	require.EqualValues(t, 2, n.Load())
	require.Equal(t, "Verdict generation failed", judge.VerdictError(err))
}

func TestHTTPClientNoRetryOnClientErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body  string
		check func(t *testing.T, err error)
	}{
		"plain 400": {`{"error":"nope"}`, func(t *testing.T, err error) {
			se, ok := errors.AsType[*judge.StatusError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, http.StatusBadRequest, se.Status)
			require.Equal(t, "nope", se.Message)
		}},
		"invalid input": {`{"error":"Invalid input: userA.cameraFacts must not be empty","code":"invalid_input"}`, func(t *testing.T, err error) {
			require.ErrorIs(t, err, judge.ErrInvalidInput)
			require.EqualError(t, err, "Invalid input: userA.cameraFacts must not be empty")
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := server(t, counting(&n, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(tt.body))
			})))
			client := newClient(t, srv.URL, judge.Config{Client: srv.Client()})
			_, err := client.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
			tt.check(t, err)
			require.EqualValues(t, 1, n.Load())
		})
	}
}

func TestHTTPClientValidatesBeforeSending(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := server(t, counting(&n, judge.NewDevHandler(newDev(t, judge.DevConfig{}))))
	client := newClient(t, srv.URL, judge.Config{Client: srv.Client()})
	c := sampleCase()
	c.Creator.Needs = ""
	_, err := client.Phase1(testCtx(t), judge.Phase1Request{Case: c})
	require.EqualError(t, err, "Invalid input: userA.unmetNeeds must not be empty")
	require.Zero(t, n.Load())
}

func TestHTTPClientAttemptTimeout(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	slow := judge.NewDevHandler(newDev(t, judge.DevConfig{Delay: time.Minute}))
	srv := server(t, counting(&n, slow))
	client := newClient(t, srv.URL, judge.Config{Client: srv.Client(), Timeout: 50 * time.Millisecond, Attempts: 2})
	start := time.Now()
	_, err := client.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
	require.EqualValues(t, 2, n.Load())
}

func TestHTTPClientRespectsContext(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := server(t, counting(&n, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})))
	client := newClient(t, srv.URL, judge.Config{Client: srv.Client(), Backoff: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := client.Phase1(ctx, judge.Phase1Request{Case: sampleCase()})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualValues(t, 1, n.Load())
}

func TestHTTPClientBadResponse(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not json":       `<html>`,
		"no resolutions": `{"analysis":{"caseMetadata":{"caseTitle":"t","severityLevel":"friction"}},"resolutions":[]}`,
		"no metadata":    `{"analysis":{},"resolutions":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := server(t, counting(&n, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(body))
			})))
			client := newClient(t, srv.URL, judge.Config{Client: srv.Client()})
			_, err := client.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
			require.ErrorIs(t, err, judge.ErrBadResponse)
			require.EqualValues(t, 1, n.Load())
		})
	}
}

func TestDevHandlerRejects(t *testing.T) {
	t.Parallel()
	srv := server(t, judge.NewDevHandler(newDev(t, judge.DevConfig{})))
	body, err := json.Marshal(judge.Phase1Request{Case: sampleCase()})
	require.NoError(t, err)
	do := func(method, path, key, body string) (int, string) {
		req, err := http.NewRequestWithContext(testCtx(t), method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if key != "" {
			req.Header.Set(judge.HeaderIdempotencyKey, key)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error
	}
	status, msg := do(http.MethodPost, judge.PathPhase1, "", string(body))
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, msg, "Idempotency-Key must be sess-1:7:phase1")
	status, _ = do(http.MethodPost, judge.PathPhase1, "sess-1:7:phase1", "{")
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = do(http.MethodGet, judge.PathPhase1, "", "")
	require.Equal(t, http.StatusMethodNotAllowed, status)
	status, _ = do(http.MethodPost, judge.PathPhase1, "sess-1:7:phase1", string(body))
	require.Equal(t, http.StatusOK, status)
	status, _ = do(http.MethodGet, "/healthz", "", "")
	require.Equal(t, http.StatusOK, status)
}

func TestNewHTTPClientConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]judge.Config{
		"empty URL":        {},
		"no scheme":        {BaseURL: "127.0.0.1:7070"},
		"ftp":              {BaseURL: "ftp://127.0.0.1"},
		"negative timeout": {BaseURL: "http://127.0.0.1:1", Timeout: -1},
		"negative tries":   {BaseURL: "http://127.0.0.1:1", Attempts: -1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := judge.NewHTTPClient(cfg)
			require.ErrorIs(t, err, judge.ErrConfig)
		})
	}
}
