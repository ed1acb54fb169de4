package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKSPath is where a Supabase project publishes its signing keys, under
// $SUPABASE_URL.
const JWKSPath = "/auth/v1/.well-known/jwks.json"

// IssuerOf is the iss claim of the tokens the project at supabaseURL issues.
func IssuerOf(supabaseURL string) string {
	return strings.TrimRight(supabaseURL, "/") + "/auth/v1"
}

// JWKSOf is the JWKS URL of the project at supabaseURL.
func JWKSOf(supabaseURL string) string {
	return strings.TrimRight(supabaseURL, "/") + JWKSPath
}

// JWKSConfig configures a JWKS.
type JWKSConfig struct {
	// URL of the key set, e.g. JWKSOf($SUPABASE_URL). Required.
	URL string
	// Refresh is the interval of the background refresh; zero means 10 min.
	Refresh time.Duration
	// UnknownKIDEvery bounds refreshes caused by tokens with an unknown kid
	// to one per interval (the first one is immediate); zero means 1 min.
	// A token whose kid is unknown while the limit is spent is refused at
	// once; it does not wait.
	UnknownKIDEvery time.Duration
	// Client makes the requests; nil means one with a 10 s timeout.
	Client *http.Client
	// Logger receives refresh failures; nil means discard.
	Logger *slog.Logger
}

// JWKS holds a project's public keys: fetched when it is made, cached in
// memory, refreshed every Refresh and, rate limited, when a token names a
// kid it does not hold (a key rotation). Looking a key up never waits for
// the network except in that rate-limited case.
type JWKS struct {
	kf keyfunc.Keyfunc
	// unknownKID is keyfunc's limiter of unknown-kid refreshes, peeked so
	// that a token with an unknown kid is refused at once while it is
	// spent, rather than waiting for it.
	unknownKID *rate.Limiter
}

// NewJWKS fetches the key set once and starts the background refresh, which
// stops when ctx is done. A failed first fetch is logged, not returned: the
// edge keeps serving HS256 tokens and picks the keys up on the next refresh.
func NewJWKS(ctx context.Context, c JWKSConfig) (*JWKS, error) {
	if c.URL == "" {
		return nil, errors.New("token: JWKS URL is required")
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	timeout := client.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	noFirstErr := true
	limiter := rate.NewLimiter(rate.Every(orDefault(c.UnknownKIDEvery, time.Minute)), 1)
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{c.URL}, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               timeout,
		NoErrorReturnFirstHTTPReq: &noFirstErr,
		RefreshInterval:           orDefault(c.Refresh, 10*time.Minute),
		RefreshUnknownKID:         limiter,
		// It bounds the wait for the limiter and the refresh together; a
		// limiter whose next token is further away refuses at once.
		RateLimitWaitMax: timeout,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				logger.Warn("token: JWKS refresh failed", "url", u, "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("token: JWKS %s: %w", c.URL, err)
	}
	if keys, err := kf.Storage().KeyReadAll(ctx); err != nil || len(keys) == 0 {
		logger.Warn("token: JWKS holds no keys yet; ES256/RS256 tokens wait for a refresh", "url", c.URL, "err", err)
	}
	return &JWKS{kf: kf, unknownKID: limiter}, nil
}

// Key returns the public key with id kid, refused when the key set says it
// is for another algorithm than alg.
func (j *JWKS) Key(kid, alg string) (any, error) {
	if j.unknownKID.Tokens() < 1 && !j.holds(kid) {
		return nil, fmt.Errorf("token: JWKS key %q unknown and its refresh is rate limited", kid)
	}
	k, err := j.kf.Keyfunc(&jwt.Token{Header: map[string]any{"kid": kid, "alg": alg}})
	if err != nil {
		return nil, fmt.Errorf("token: JWKS key %q: %w", kid, err)
	}
	return k, nil
}

// holds reports whether the cached key set has kid, without a refresh.
func (j *JWKS) holds(kid string) bool {
	keys, err := j.kf.Storage().KeyReadAll(context.Background())
	if err != nil {
		return false
	}
	for _, k := range keys {
		if k.Marshal().KID == kid {
			return true
		}
	}
	return false
}
