package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures an HTTPClient.
type Config struct {
	// BaseURL is the judge service's http or https URL, e.g.
	// "http://127.0.0.1:7070". Required.
	BaseURL string
	// Client sends the requests. Nil means a new http.Client.
	Client *http.Client
	// Timeout bounds each attempt. Zero means DefaultTimeout (60 s).
	Timeout time.Duration
	// Attempts is the most attempts per call. Zero means DefaultAttempts (3).
	Attempts int
	// Backoff is the wait after the first failed deliberation attempt; it
	// doubles after each further one, with jitter. Zero means
	// DefaultBackoff (1 s).
	Backoff time.Duration
	// HybridBackoff is Backoff for hybrid calls. Zero means
	// DefaultHybridBackoff (500 ms).
	HybridBackoff time.Duration
	// Logger receives a warning per failed attempt. Nil means discard.
	Logger *slog.Logger
}

// HTTPClient is a Judge that calls a judge service over HTTP (docs/judge.md).
// It is safe for concurrent use.
type HTTPClient struct {
	base       string
	client     *http.Client
	deliberate policy
	hybrid     policy
}

var _ Judge = (*HTTPClient)(nil)

// maxReply bounds a reply body; the largest real output is about 200 KiB
// (court-protocol.md §7.2).
const maxReply = 4 << 20

// NewHTTPClient returns a client for the service at cfg.BaseURL.
func NewHTTPClient(cfg Config) (*HTTPClient, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: BaseURL %q is not an http(s) URL", ErrConfig, cfg.BaseURL)
	}
	c := &HTTPClient{base: strings.TrimRight(cfg.BaseURL, "/"), client: cfg.Client}
	if c.client == nil {
		c.client = &http.Client{}
	}
	if c.deliberate, err = newPolicy(cfg.Timeout, cfg.Attempts, cfg.Backoff, DefaultBackoff, cfg.Logger); err != nil {
		return nil, err
	}
	if c.hybrid, err = newPolicy(cfg.Timeout, cfg.Attempts, cfg.HybridBackoff, DefaultHybridBackoff, cfg.Logger); err != nil {
		return nil, err
	}
	return c, nil
}

// Phase1 implements Judge.
func (c *HTTPClient) Phase1(ctx context.Context, req Phase1Request) (Phase1Result, error) {
	if err := req.Validate(); err != nil {
		return Phase1Result{}, err
	}
	key := IdempotencyKey(req.SessionID, req.Version, StepPhase1)
	return post(ctx, c, c.deliberate, StepPhase1, PathPhase1, key, req, (*Phase1Result).check)
}

// Phase2 implements Judge.
func (c *HTTPClient) Phase2(ctx context.Context, req Phase2Request) (Phase2Result, error) {
	if err := req.Validate(); err != nil {
		return Phase2Result{}, err
	}
	key := IdempotencyKey(req.SessionID, req.Version, StepPhase2)
	return post(ctx, c, c.deliberate, StepPhase2, PathPhase2, key, req, (*Phase2Result).check)
}

// Hybrid implements Judge.
func (c *HTTPClient) Hybrid(ctx context.Context, req HybridRequest) (HybridResult, error) {
	if err := req.Validate(); err != nil {
		return HybridResult{}, err
	}
	key := IdempotencyKey(req.SessionID, req.Version, StepHybrid)
	check := func(r *HybridResult) error { return r.Hybrid.check() }
	return post(ctx, c, c.hybrid, StepHybrid, PathHybrid, key, req, check)
}

// post sends body to path under pol and decodes and checks the reply.
func post[T any](ctx context.Context, c *HTTPClient, pol policy, step Step, path, key string, body any, check func(*T) error) (T, error) {
	var out T
	data, err := json.Marshal(body)
	if err != nil {
		return out, fmt.Errorf("judge: %s: marshal request: %w", step, err)
	}
	err = pol.do(ctx, step, func(ctx context.Context) error {
		var got T
		if err := c.send(ctx, path, key, data, &got); err != nil {
			return err
		}
		if err := check(&got); err != nil {
			return fmt.Errorf("%w: %w", ErrBadResponse, err)
		}
		out = got
		return nil
	})
	return out, err
}

// send is one attempt: it POSTs data and decodes a 2xx reply into out.
func (c *HTTPClient) send(ctx context.Context, path, key string, data []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: build request: %w", ErrConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderIdempotencyKey, key)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return fmt.Errorf("read reply: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return replyError(resp.StatusCode, reply)
	}
	if len(reply) > maxReply {
		return fmt.Errorf("%w: reply larger than %d bytes", ErrBadResponse, maxReply)
	}
	if err := json.Unmarshal(reply, out); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}

// replyError turns a non-2xx reply into an *InputError or a *StatusError.
func replyError(status int, reply []byte) error {
	var body errorBody
	if json.Unmarshal(reply, &body) != nil || body.Error == "" {
		body.Error = http.StatusText(status)
	}
	if body.Code == codeInvalidInput && status/100 == 4 {
		return &InputError{Reason: strings.TrimPrefix(body.Error, inputPrefix)}
	}
	return &StatusError{Status: status, Message: body.Error}
}
