package judge_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/judge"
)

// chatCall is one request the fake chat-completions server received.
type chatCall struct {
	Path          string
	Authorization string
	Key           string
	Body          struct {
		Model       string   `json:"model"`
		MaxTokens   int      `json:"max_tokens"`
		Temperature *float64 `json:"temperature"`
		Messages    []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		ResponseFormat struct {
			Type string `json:"type"`
		} `json:"response_format"`
	}
}

// fakeChat is an OpenAI-compatible chat-completions server whose replies
// come from reply: a status and the content of the first choice.
type fakeChat struct {
	mu    sync.Mutex
	calls []chatCall
	n     atomic.Int32
	reply func(call chatCall) (status int, content string)
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.n.Add(1)
	call := chatCall{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Key: r.Header.Get(judge.HeaderIdempotencyKey)}
	if err := json.NewDecoder(r.Body).Decode(&call.Body); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	status, content := f.reply(call)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status != http.StatusOK {
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": content, "code": status}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "gen-1",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
	})
}

func (f *fakeChat) snapshot() []chatCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatCall(nil), f.calls...)
}

func (f *fakeChat) last(t *testing.T) chatCall {
	t.Helper()
	calls := f.snapshot()
	require.NotEmpty(t, calls)
	return calls[len(calls)-1]
}

// cannedContent is what a model would answer to each step, built from the
// dev judge.
func cannedContent(t *testing.T) map[string]string {
	t.Helper()
	dev := newDev(t, judge.DevConfig{TextScale: 0.2})
	c := sampleCase()
	p1, err := dev.Phase1(testCtx(t), judge.Phase1Request{Case: c})
	require.NoError(t, err)
	p2, err := dev.Phase2(testCtx(t), judge.Phase2Request{Case: c, Analysis: p1.Analysis, Resolutions: p1.Resolutions})
	require.NoError(t, err)
	h, err := dev.Hybrid(testCtx(t), judge.HybridRequest{SessionID: "s", Analysis: p1.Analysis, PickA: p1.Resolutions[0], PickB: p1.Resolutions[1]})
	require.NoError(t, err)
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	return map[string]string{
		"phase1": enc(map[string]any{"analysis": p1.Analysis, "resolutions": p1.Resolutions, "assessedIntensity": p1.AssessedIntensity}),
		"phase2": enc(map[string]any{"primingContent": p2.PrimingContent, "jointMenu": p2.JointMenu}),
		"hybrid": enc(h.Hybrid),
	}
}

// stepOf tells the steps apart by their prompt.
func stepOf(call chatCall) string {
	if call.Body.MaxTokens == 2000 {
		return "hybrid"
	}
	var in map[string]json.RawMessage
	_ = json.Unmarshal([]byte(call.Body.Messages[1].Content), &in)
	if _, ok := in["resolutions"]; ok {
		return "phase2"
	}
	return "phase1"
}

func newOpenAI(t *testing.T, f *fakeChat, cfg judge.OpenAIConfig) *judge.OpenAI {
	t.Helper()
	srv := server(t, f)
	cfg.Endpoint = srv.URL + "/api/v1"
	cfg.APIKey = "sk-test"
	cfg.Client = srv.Client()
	cfg.Backoff, cfg.HybridBackoff = time.Millisecond, time.Millisecond
	o, err := judge.NewOpenAI(cfg)
	require.NoError(t, err)
	return o
}

func cannedServer(t *testing.T) *fakeChat {
	canned := cannedContent(t)
	return &fakeChat{reply: func(call chatCall) (int, string) { return http.StatusOK, canned[stepOf(call)] }}
}

func TestOpenAIModelPerJudgeType(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		judgeType string
		models    map[string]string
		want      string
	}{
		"wise":     {judge.TypeWise, nil, "google/gemini-3.1-pro-preview"},
		"classic":  {judge.TypeClassic, nil, "deepseek/deepseek-v3.2"},
		"swift":    {judge.TypeSwift, nil, "google/gemini-3-flash-preview"},
		"logical":  {judge.TypeLogical, nil, "deepseek/deepseek-v3.2"},
		"empty":    {"", nil, "deepseek/deepseek-v3.2"},
		"override": {judge.TypeSwift, map[string]string{judge.TypeSwift: "acme/fast-1"}, "acme/fast-1"},
		"added":    {judge.TypeLogical, map[string]string{judge.TypeLogical: "acme/logic"}, "acme/logic"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := cannedServer(t)
			o := newOpenAI(t, f, judge.OpenAIConfig{Models: tt.models})
			require.Equal(t, tt.want, o.Model(tt.judgeType))
			c := sampleCase()
			c.JudgeType = tt.judgeType
			d := deliberate(t, o, c)
			require.JSONEq(t, "null", string(d.HistoricalContext))

			calls := f.snapshot()
			for _, call := range calls {
				require.Equal(t, "/api/v1/chat/completions", call.Path)
				require.Equal(t, "Bearer sk-test", call.Authorization)
				require.Equal(t, tt.want, call.Body.Model)
				require.Equal(t, 8000, call.Body.MaxTokens)
				require.Nil(t, call.Body.Temperature)
				require.Equal(t, "json_object", call.Body.ResponseFormat.Type)
				require.Equal(t, "system", call.Body.Messages[0].Role)
				require.Contains(t, call.Body.Messages[0].Content, "courtmesh")
				require.Equal(t, "user", call.Body.Messages[1].Role)
				require.Contains(t, call.Body.Messages[1].Content, `"cameraFacts":"Ana came home late`)
			}
			require.Len(t, calls, 2)
			require.Equal(t, "sess-1:7:phase1", calls[0].Key)
			require.Equal(t, "sess-1:7:phase2", calls[1].Key)
		})
	}
}

func TestOpenAIHybrid(t *testing.T) {
	t.Parallel()
	f := cannedServer(t)
	o := newOpenAI(t, f, judge.OpenAIConfig{})
	d := deliberate(t, o, sampleCase())
	res, err := o.Hybrid(testCtx(t), hybridRequest(t, d))
	require.NoError(t, err)
	require.NotEmpty(t, res.Hybrid.Title)
	require.NotEmpty(t, res.Hybrid.BridgingMessage)

	call := f.last(t)
	require.Equal(t, "x-ai/grok-4.1-fast", call.Body.Model)
	require.Equal(t, 2000, call.Body.MaxTokens)
	require.NotNil(t, call.Body.Temperature)
	require.InDelta(t, 0.5, *call.Body.Temperature, 1e-9)
	require.Equal(t, "sess-1:8:hybrid", call.Key)
	require.Contains(t, call.Body.Messages[1].Content, `"userAChoice":{"id":"resolution_1"`)
}

func TestOpenAIAcceptsFencedAndNestedOutput(t *testing.T) {
	t.Parallel()
	canned := cannedContent(t)
	var p1 map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(canned["phase1"]), &p1))
	// Resolutions inside the analysis, the whole in a Markdown fence.
	nested := `{"analysis":` + string(p1["analysis"]) + `}`
	f := &fakeChat{reply: func(call chatCall) (int, string) {
		switch stepOf(call) {
		case "phase1":
			return http.StatusOK, "```json\n" + nested + "\n```"
		case "hybrid":
			return http.StatusOK, `{"hybrid":` + canned["hybrid"] + `}`
		}
		return http.StatusOK, canned["phase2"]
	}}
	o := newOpenAI(t, f, judge.OpenAIConfig{})
	d := deliberate(t, o, sampleCase())
	var rs []judge.Resolution
	require.NoError(t, json.Unmarshal(d.Resolutions, &rs))
	require.Len(t, rs, 3)
	_, err := o.Hybrid(testCtx(t), hybridRequest(t, d))
	require.NoError(t, err)
}

func TestOpenAIBadContent(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not json":          `I think you should both apologise.`,
		"truncated":         `{"analysis":{"caseMetadata":{"caseTitle":"x"`,
		"two resolutions":   `{"analysis":{"caseMetadata":{"caseTitle":"t","severityLevel":"friction"}},"resolutions":[{"id":"resolution_1","title":"a","combinedDescription":"b"},{"id":"resolution_2","title":"a","combinedDescription":"b"}]}`,
		"wrong ids":         `{"analysis":{"caseMetadata":{"caseTitle":"t","severityLevel":"friction"}},"resolutions":[{"id":"r1","title":"a","combinedDescription":"b"},{"id":"r2","title":"a","combinedDescription":"b"},{"id":"r3","title":"a","combinedDescription":"b"}]}`,
		"analysis not obj":  `{"analysis":"fine","resolutions":[]}`,
		"no case metadata":  `{"analysis":{},"resolutions":[]}`,
		"resolutions wrong": `{"analysis":{"caseMetadata":{"caseTitle":"t","severityLevel":"friction"}},"resolutions":"three"}`,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakeChat{reply: func(chatCall) (int, string) { return http.StatusOK, content }}
			o := newOpenAI(t, f, judge.OpenAIConfig{Attempts: 2})
			_, err := o.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
			require.ErrorIs(t, err, judge.ErrBadResponse)
			require.EqualValues(t, 2, f.n.Load(), "malformed output is retried")
		})
	}
}

func TestOpenAIBadPhase2AndHybridContent(t *testing.T) {
	t.Parallel()
	canned := cannedContent(t)
	f := &fakeChat{reply: func(call chatCall) (int, string) {
		switch stepOf(call) {
		case "phase1":
			return http.StatusOK, canned["phase1"]
		case "phase2":
			return http.StatusOK, `{"primingContent":{"userA":{}},"jointMenu":{"theSummary":"s"}}`
		}
		return http.StatusOK, `{"title":""}`
	}}
	o := newOpenAI(t, f, judge.OpenAIConfig{Attempts: 1})
	_, err := judge.Deliberate(testCtx(t), o, sampleCase())
	require.ErrorIs(t, err, judge.ErrBadResponse)
	_, err = o.Hybrid(testCtx(t), judge.HybridRequest{SessionID: "s", Analysis: json.RawMessage(`{}`),
		PickA: judge.Resolution{ID: "resolution_1", Title: "A"}, PickB: judge.Resolution{ID: "resolution_2", Title: "B"}})
	require.ErrorIs(t, err, judge.ErrBadResponse)
}

func TestOpenAIStatusErrors(t *testing.T) {
	t.Parallel()
	canned := cannedContent(t)
	tests := map[string]struct {
		status   int
		attempts int32 // requests made
		ok       bool
	}{
		"401 is final":         {http.StatusUnauthorized, 1, false},
		"429 then success":     {http.StatusTooManyRequests, 2, true},
		"502 then success":     {http.StatusBadGateway, 2, true},
		"400 bad request only": {http.StatusBadRequest, 1, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var f *fakeChat
			f = &fakeChat{reply: func(chatCall) (int, string) {
				if f.n.Load() == 1 {
					return tt.status, "upstream said no"
				}
				return http.StatusOK, canned["phase1"]
			}}
			o := newOpenAI(t, f, judge.OpenAIConfig{})
			_, err := o.Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
			require.Equal(t, tt.attempts, f.n.Load())
			if tt.ok {
				require.NoError(t, err)
				return
			}
			se, ok := errors.AsType[*judge.StatusError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tt.status, se.Status)
			require.Equal(t, "upstream said no", se.Message)
		})
	}
}

func TestNewOpenAIConfig(t *testing.T) {
	t.Parallel()
	_, err := judge.NewOpenAI(judge.OpenAIConfig{})
	require.ErrorIs(t, err, judge.ErrConfig, "APIKey is required")
	_, err = judge.NewOpenAI(judge.OpenAIConfig{APIKey: "k", Endpoint: "openrouter.ai"})
	require.ErrorIs(t, err, judge.ErrConfig)
	o, err := judge.NewOpenAI(judge.OpenAIConfig{APIKey: "k"})
	require.NoError(t, err)
	require.Equal(t, judge.DefaultModel, o.Model("unknown"))
}
