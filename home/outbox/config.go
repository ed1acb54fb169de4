package outbox

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// DB is the part of *pgxpool.Pool the dispatcher uses.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Defaults of the Config fields.
const (
	DefaultBatch        = 32
	DefaultConcurrency  = 8
	DefaultPostTimeout  = 5 * time.Second
	DefaultPollInterval = 500 * time.Millisecond
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	// DefaultMaxAttempts dead-letters a row after about two hours of
	// failures with the default backoff.
	DefaultMaxAttempts = 30
)

// Config configures a Dispatcher.
type Config struct {
	// DB is the Postgres pool holding court_outbox. Required.
	DB DB
	// Webhook is the URL rows are POSTed to, signed with Secret. Empty means
	// no delivery: rows stay pending (held, with a Warn and the
	// court_outbox_sink{mode="hold"} metric) until a node with a webhook
	// delivers them, unless Discard is set.
	Webhook string
	// Secret keys the Standard Webhooks signature of every POST (see
	// package signature). Required with Webhook.
	Secret []byte
	// Discard, without Webhook, marks every row discarded instead of holding
	// it: the operator said explicitly that side effects go nowhere
	// (`--webhook none`). Rows are counted, never logged.
	Discard bool
	// MaxAttempts is the number of failed POSTs after which a row is
	// dead-lettered: never retried, counted in court_outbox_dead, listed by
	// `courtctl outbox --dead`. Zero means DefaultMaxAttempts.
	MaxAttempts int
	// Client sends the POSTs. Nil means a client with PostTimeout.
	Client *http.Client
	// Batch is the number of rows claimed per round. Zero means DefaultBatch.
	Batch int
	// Concurrency is the number of POSTs in flight per round. Zero means
	// DefaultConcurrency.
	Concurrency int
	// PostTimeout bounds each POST, and so how long a claimed row stays
	// locked. Zero means DefaultPostTimeout.
	PostTimeout time.Duration
	// PollInterval is the wait between rounds that found fewer than Batch
	// due rows. Zero means DefaultPollInterval.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the retry delay of a failed row: the
	// n-th failure waits about MinBackoff*2^(n-1), jittered between half and
	// all of it, at most MaxBackoff. Zero means DefaultMinBackoff and
	// DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Logger logs; nil means discard.
	Logger *slog.Logger
	// Registerer registers the metrics; nil means they are not registered.
	Registerer prometheus.Registerer
}

// withDefaults returns cfg with its zero fields defaulted, or an error.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.DB == nil {
		return cfg, errors.New("outbox: Config.DB is required")
	}
	if cfg.Webhook != "" {
		u, err := url.Parse(cfg.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, errors.New("outbox: Config.Webhook must be an http(s) URL")
		}
		if len(cfg.Secret) == 0 {
			return cfg, errors.New("outbox: Config.Secret is required with a Webhook: bodies are signed")
		}
		if cfg.Discard {
			return cfg, errors.New("outbox: Config.Discard and Webhook are exclusive")
		}
	}
	if cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 || cfg.Batch < 0 || cfg.Concurrency < 0 || cfg.MaxAttempts < 0 {
		return cfg, errors.New("outbox: negative Config value")
	}
	cfg.Batch = or(cfg.Batch, DefaultBatch)
	cfg.Concurrency = or(cfg.Concurrency, DefaultConcurrency)
	cfg.PostTimeout = or(cfg.PostTimeout, DefaultPostTimeout)
	cfg.PollInterval = or(cfg.PollInterval, DefaultPollInterval)
	cfg.MinBackoff = or(cfg.MinBackoff, DefaultMinBackoff)
	cfg.MaxBackoff = max(or(cfg.MaxBackoff, DefaultMaxBackoff), cfg.MinBackoff)
	cfg.MaxAttempts = or(cfg.MaxAttempts, DefaultMaxAttempts)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.PostTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
