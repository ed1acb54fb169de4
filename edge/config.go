package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
	"courtmesh/token"
)

// Home policies: where a new session's home region is.
const (
	// HomePrimary puts new sessions in the catalog's primary region.
	HomePrimary = "primary"
	// HomeCreator puts new sessions in the home-capable region nearest to
	// the edge the creator is connected to.
	HomeCreator = "creator"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("edge: invalid config")

// Mesh is what the edge needs from the mesh: request/response to a node.
type Mesh interface {
	// Request sends req to the node nodeID and waits for its response. A
	// failure the home reports comes back as a *wire.Error.
	Request(ctx context.Context, nodeID string, req *wire.Request) (*wire.Response, error)
	// HomeNodes returns the home nodes of region whose link is up.
	HomeNodes(region string) []string
}

// Config configures an edge Server.
type Config struct {
	// NodeID names this edge in the mesh and in presence. Required.
	NodeID string
	// Region is this edge's region; it must be in Catalog. Required.
	Region string
	// Addr is the listen address of Run, e.g. "127.0.0.1:8080"; ":0" picks
	// a free port. Only Run uses it.
	Addr string
	// Catalog is the region catalog. Nil means regions.Default().
	Catalog *regions.Catalog
	// Verifier checks client tokens. Required.
	Verifier *token.Verifier
	// Directory routes users to sessions and records presence. Required.
	Directory directory.Directory
	// Mesh carries requests to home nodes. Required.
	Mesh Mesh
	// Limiter counts the rate-limited court events per user
	// (protocol.RateLimits, court-protocol.md §2.5) in windows shared
	// by every edge, on the socket and the REST path alike; courtd gives
	// it a directory.RegionalLimiter, which answers with no round trip.
	// Nil means no rate limits. While it fails, this edge counts the
	// events by itself, and refuses the events whose limit FailClosed once
	// it has failed for LimiterGrace, counted from the start a
	// directory.UnreconciledError reports (docs/decisions.md); failures
	// are logged at Warn at most once per limiterWarnEvery.
	Limiter directory.Limiter
	// LimiterGrace is how long the FailClosed events still go through,
	// counted by this edge alone, once the Limiter fails. Zero means
	// DefaultLimiterGrace.
	LimiterGrace time.Duration
	// MaxSocketsPerUser bounds the authenticated sockets of one user on
	// this edge; a CONNECT past it is refused and the socket closed
	// (user_limit). Zero means DefaultMaxSocketsPerUser; negative, none.
	MaxSocketsPerUser int
	// MaxSocketsPerIP bounds the open sockets of one client address
	// (the TCP peer); a handshake past it is answered 429 (ip_limit).
	// Zero means none: behind a load balancer every client has its
	// address.
	MaxSocketsPerIP int
	// HomePolicy picks the home region of a new session: HomePrimary or
	// HomeCreator. Empty means HomePrimary.
	HomePolicy string
	// PingInterval is the Engine.IO ping interval. Zero means
	// DefaultPingInterval.
	PingInterval time.Duration
	// PingTimeout is how long a pong may take; it also bounds every socket
	// write. Zero means DefaultPingTimeout.
	PingTimeout time.Duration
	// MaxPayload bounds one client WebSocket message in bytes; a larger one
	// closes that socket. Zero means DefaultMaxPayload.
	MaxPayload int
	// SendQueueLen bounds the frames waiting to be written to one socket; a
	// socket whose queue is full is cut off (slow_consumer). Zero means
	// DefaultSendQueueLen.
	SendQueueLen int
	// RequestTimeout bounds one client action: its directory lookups and
	// mesh requests, retries included. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// PresenceTTL is the lifetime of presence records; Run refreshes them
	// every PresenceTTL/3 for users with registered sockets. Zero means
	// DefaultPresenceTTL.
	PresenceTTL time.Duration
	// TokenGrace is how long after its token's exp a socket is closed
	// (expiry.go). Zero means MaxTokenGrace, its upper bound.
	TokenGrace time.Duration
	// Logger receives logs. Nil means discard.
	Logger *slog.Logger
	// Registerer receives the metrics. Nil means they are not registered.
	Registerer prometheus.Registerer
}

// Defaults of the zero fields of Config.
const (
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultSendQueueLen   = 128
	DefaultRequestTimeout = 8 * time.Second
	DefaultPresenceTTL    = 2 * time.Minute
	// DefaultMaxSocketsPerUser is far above the tabs and devices of one
	// person, and far below what one token can flood an edge with.
	DefaultMaxSocketsPerUser = 32
)

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Catalog == nil {
		c.Catalog = regions.Default()
	}
	if c.HomePolicy == "" {
		c.HomePolicy = HomePrimary
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	c.PingInterval = orDefault(c.PingInterval, DefaultPingInterval)
	c.PingTimeout = orDefault(c.PingTimeout, DefaultPingTimeout)
	c.MaxPayload = orDefault(c.MaxPayload, DefaultMaxPayload)
	c.SendQueueLen = orDefault(c.SendQueueLen, DefaultSendQueueLen)
	c.RequestTimeout = orDefault(c.RequestTimeout, DefaultRequestTimeout)
	c.PresenceTTL = orDefault(c.PresenceTTL, DefaultPresenceTTL)
	c.TokenGrace = orDefault(c.TokenGrace, MaxTokenGrace)
	c.LimiterGrace = orDefault(c.LimiterGrace, DefaultLimiterGrace)
	c.MaxSocketsPerUser = orDefault(c.MaxSocketsPerUser, DefaultMaxSocketsPerUser)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func orDefault[T time.Duration | int](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (c *Config) validate() error {
	switch {
	case c.NodeID == "":
		return fmt.Errorf("%w: NodeID is required", ErrConfig)
	case c.Verifier == nil:
		return fmt.Errorf("%w: Verifier is required", ErrConfig)
	case c.Directory == nil:
		return fmt.Errorf("%w: Directory is required", ErrConfig)
	case c.Mesh == nil:
		return fmt.Errorf("%w: Mesh is required", ErrConfig)
	case c.HomePolicy != HomePrimary && c.HomePolicy != HomeCreator:
		return fmt.Errorf("%w: unknown HomePolicy %q", ErrConfig, c.HomePolicy)
	case c.PingInterval < 0 || c.PingTimeout < 0 || c.RequestTimeout < 0 || c.PresenceTTL < 0 || c.TokenGrace < 0:
		return fmt.Errorf("%w: negative duration", ErrConfig)
	case c.TokenGrace > MaxTokenGrace:
		return fmt.Errorf("%w: TokenGrace above %s", ErrConfig, MaxTokenGrace)
	case c.MaxPayload < 0 || c.SendQueueLen < 0:
		return fmt.Errorf("%w: negative size", ErrConfig)
	}
	if _, ok := c.Catalog.Lookup(c.Region); !ok {
		return fmt.Errorf("%w: region %q is not in the catalog", ErrConfig, c.Region)
	}
	return nil
}

// homeRegion is the region where sessions created through this edge live.
func (c *Config) homeRegion() string {
	if c.HomePolicy == HomeCreator {
		if r, ok := c.Catalog.NearestHome(c.Region); ok {
			return r
		}
	}
	return c.Catalog.Primary
}
