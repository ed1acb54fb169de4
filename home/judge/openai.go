package judge

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Model defaults (court-protocol.md §3.6, judgeEngine.js).
const (
	DefaultEndpoint    = "https://openrouter.ai/api/v1"
	DefaultModel       = "deepseek/deepseek-v3.2"
	DefaultHybridModel = "x-ai/grok-4.1-fast"
	maxTokensPhase     = 8000
	maxTokensHybrid    = 2000
	hybridTemperature  = 0.5
)

// DefaultModels returns the model of each judge type; any other type uses
// DefaultModel.
func DefaultModels() map[string]string {
	return map[string]string{
		TypeWise:    "google/gemini-3.1-pro-preview",
		TypeClassic: "deepseek/deepseek-v3.2",
		TypeSwift:   "google/gemini-3-flash-preview",
	}
}

// OpenAIConfig configures an OpenAI judge.
type OpenAIConfig struct {
	// Endpoint is the API base; requests go to Endpoint + "/chat/completions".
	// Zero means DefaultEndpoint (OpenRouter).
	Endpoint string
	// APIKey is sent as "Authorization: Bearer <APIKey>". Required.
	APIKey string
	// Models maps judge types to models, over DefaultModels. Nil means
	// DefaultModels.
	Models map[string]string
	// DefaultModel is the model of a judge type not in Models. Zero means
	// DefaultModel.
	DefaultModel string
	// HybridModel is the model of hybrid calls. Zero means
	// DefaultHybridModel.
	HybridModel string
	// Client sends the requests. Nil means a new http.Client.
	Client *http.Client
	// Timeout, Attempts, Backoff, HybridBackoff and Logger are as in Config.
	Timeout       time.Duration
	Attempts      int
	Backoff       time.Duration
	HybridBackoff time.Duration
	Logger        *slog.Logger
}

// OpenAI is a Judge that calls an OpenAI-compatible chat-completions API
// (OpenRouter style), one completion per call, JSON mode. It has no
// moderation or retrieval step, so HistoricalContext is always null. It
// retries malformed model output like a failed attempt. It is safe for
// concurrent use.
type OpenAI struct {
	url         string
	key         string
	models      map[string]string
	model       string
	hybridModel string
	client      *http.Client
	deliberate  policy
	hybrid      policy
}

var _ Judge = (*OpenAI)(nil)

// NewOpenAI returns an OpenAI judge.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("%w: APIKey required", ErrConfig)
	}
	endpoint := strings.TrimRight(orDefault(cfg.Endpoint, DefaultEndpoint), "/")
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: Endpoint %q is not an http(s) URL", ErrConfig, endpoint)
	}
	o := &OpenAI{
		url: endpoint + "/chat/completions", key: cfg.APIKey,
		models: DefaultModels(), model: orDefault(cfg.DefaultModel, DefaultModel),
		hybridModel: orDefault(cfg.HybridModel, DefaultHybridModel), client: cfg.Client,
	}
	maps.Copy(o.models, cfg.Models)
	if o.client == nil {
		o.client = &http.Client{}
	}
	var err error
	if o.deliberate, err = newPolicy(cfg.Timeout, cfg.Attempts, cfg.Backoff, DefaultBackoff, cfg.Logger); err != nil {
		return nil, err
	}
	if o.hybrid, err = newPolicy(cfg.Timeout, cfg.Attempts, cfg.HybridBackoff, DefaultHybridBackoff, cfg.Logger); err != nil {
		return nil, err
	}
	o.deliberate.retryBad, o.hybrid.retryBad = true, true
	return o, nil
}

// orDefault returns v, or dflt when v is empty.
func orDefault(v, dflt string) string {
	if v == "" {
		return dflt
	}
	return v
}

// Model is the model that judges cases of judgeType.
func (o *OpenAI) Model(judgeType string) string {
	if m, ok := o.models[judgeType]; ok && m != "" {
		return m
	}
	return o.model
}

// Phase1 implements Judge.
func (o *OpenAI) Phase1(ctx context.Context, req Phase1Request) (Phase1Result, error) {
	if err := req.Validate(); err != nil {
		return Phase1Result{}, err
	}
	c := completion{model: o.Model(req.JudgeType), maxTokens: maxTokensPhase, system: promptPhase1,
		input: newPromptCase(req.Case), key: IdempotencyKey(req.SessionID, req.Version, StepPhase1)}
	return complete(ctx, o, o.deliberate, StepPhase1, c, parsePhase1)
}

// Phase2 implements Judge.
func (o *OpenAI) Phase2(ctx context.Context, req Phase2Request) (Phase2Result, error) {
	if err := req.Validate(); err != nil {
		return Phase2Result{}, err
	}
	input := promptPhase2Input{Case: newPromptCase(req.Case), Analysis: req.Analysis, Resolutions: req.Resolutions}
	c := completion{model: o.Model(req.JudgeType), maxTokens: maxTokensPhase, system: promptPhase2,
		input: input, key: IdempotencyKey(req.SessionID, req.Version, StepPhase2)}
	return complete(ctx, o, o.deliberate, StepPhase2, c, parsePhase2)
}

// Hybrid implements Judge.
func (o *OpenAI) Hybrid(ctx context.Context, req HybridRequest) (HybridResult, error) {
	if err := req.Validate(); err != nil {
		return HybridResult{}, err
	}
	temp := hybridTemperature
	input := promptHybridInput{Language: language(req.Language), Analysis: req.Analysis, UserAChoice: req.PickA, UserBChoice: req.PickB}
	c := completion{model: o.hybridModel, maxTokens: maxTokensHybrid, temperature: &temp, system: promptHybrid,
		input: input, key: IdempotencyKey(req.SessionID, req.Version, StepHybrid)}
	return complete(ctx, o, o.hybrid, StepHybrid, c, parseHybrid)
}

// completion is one chat completion to ask for.
type completion struct {
	model       string
	maxTokens   int
	temperature *float64
	system      string
	input       any // marshalled as the user message
	key         string
}

// complete runs c under pol and parses the reply's content with parse.
func complete[T any](ctx context.Context, o *OpenAI, pol policy, step Step, c completion, parse func([]byte) (T, error)) (T, error) {
	var out T
	body, err := c.body()
	if err != nil {
		return out, fmt.Errorf("judge: %s: %w", step, err)
	}
	err = pol.do(ctx, step, func(ctx context.Context) error {
		content, err := o.send(ctx, c.key, body)
		if err != nil {
			return err
		}
		got, err := parse(stripFence(content))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadResponse, err)
		}
		out = got
		return nil
	})
	return out, err
}
