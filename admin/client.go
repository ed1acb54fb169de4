package admin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client calls the admin API of nodes.
type Client struct {
	hc *http.Client
}

// NewClient returns a client presenting the operator certificate of
// tlsConf (a pki client config: the operator's certificate, and the cluster
// CA the node's certificate must chain to).
func NewClient(tlsConf *tls.Config) *Client {
	c := tlsConf.Clone()
	c.NextProtos = []string{"http/1.1"}
	return &Client{hc: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: c, ForceAttemptHTTP2: false},
	}}
}

// Status reads the node's status at addr.
func (c *Client) Status(ctx context.Context, addr string) (Status, error) {
	return c.call(ctx, http.MethodGet, addr, PathStatus, nil)
}

// Drain asks the node at addr to drain.
func (c *Client) Drain(ctx context.Context, addr string, req DrainRequest) (Status, error) {
	return c.call(ctx, http.MethodPost, addr, PathDrain, req)
}

// Migrate asks the home at addr to move session to home node to of region.
func (c *Client) Migrate(ctx context.Context, addr, session, to, region string) error {
	_, err := c.call(ctx, http.MethodPost, addr, PathMigrate, MigrateRequest{Session: session, To: to, Region: region})
	return err
}

// Undrain asks the node at addr to take work again.
func (c *Client) Undrain(ctx context.Context, addr string) (Status, error) {
	return c.call(ctx, http.MethodPost, addr, PathUndrain, nil)
}

func (c *Client) call(ctx context.Context, method, addr, path string, body any) (Status, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Status{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://"+addr+path, rd)
	if err != nil {
		return Status{}, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Status{}, fmt.Errorf("admin call to %s: %w (is the certificate in --tls-dir an operator certificate from this cluster's CA?)", addr, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Status{}, fmt.Errorf("admin call to %s: %w", addr, err)
	}
	if resp.StatusCode/100 != 2 {
		var e apiError
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return Status{}, fmt.Errorf("%s refused: %s", addr, e.Error)
		}
		return Status{}, fmt.Errorf("%s refused: %s", addr, resp.Status)
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return Status{}, fmt.Errorf("admin call to %s: bad answer: %w", addr, err)
	}
	return st, nil
}
