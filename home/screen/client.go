package screen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one screening: it runs before the action, on the
// user's path.
const DefaultTimeout = 2 * time.Second

// maxReply bounds a reply body.
const maxReply = 64 << 10

// HTTPClient is a Screener that calls a screening service over HTTP
// (docs/screen.md). It is safe for concurrent use.
type HTTPClient struct {
	url     string
	client  *http.Client
	timeout time.Duration
}

var _ Screener = (*HTTPClient)(nil)

// NewHTTPClient returns a client of the service at baseURL; a nil client
// means a new http.Client, a zero timeout DefaultTimeout.
func NewHTTPClient(baseURL string, client *http.Client, timeout time.Duration) (*HTTPClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("screen: base URL %q is not an http(s) URL", baseURL)
	}
	if client == nil {
		client = &http.Client{}
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &HTTPClient{url: strings.TrimRight(baseURL, "/") + PathScreen, client: client, timeout: timeout}, nil
}

// Screen implements Screener: one POST, no retry (the caller decides what
// a failure means).
func (c *HTTPClient) Screen(ctx context.Context, req Request) (Decision, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Decision{}, fmt.Errorf("screen: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Decision{}, fmt.Errorf("screen: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(hreq)
	if err != nil {
		return Decision{}, fmt.Errorf("screen: %w", err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return Decision{}, fmt.Errorf("screen: read reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Decision{}, fmt.Errorf("screen: status %d: %.200s", resp.StatusCode, reply)
	}
	var d Decision
	if err := json.Unmarshal(reply, &d); err != nil {
		return Decision{}, fmt.Errorf("screen: decode reply: %w", err)
	}
	if err := d.check(); err != nil {
		return Decision{}, err
	}
	return d, nil
}
