package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/appdata"
	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/judge"
	"courtmesh/home/screen"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
)

// Mesh sends events to other nodes. *mesh.Node implements it.
type Mesh interface {
	// SendEvent sends ev to the node nodeID without waiting for it to be
	// delivered.
	SendEvent(nodeID string, ev *wire.Event) error
	// TakesStateDocs reports whether the edge nodeID takes court:state
	// documents (statedocs.go); an edge of an earlier release does not,
	// and gets each user's court:state.
	TakesStateDocs(nodeID string) bool
	// TakesDocAcks reports whether the edge nodeID builds an action's ack
	// from the document queued to it (wire.Response.StateInDoc); an edge
	// of an earlier release does not, and gets the whole state.
	TakesDocAcks(nodeID string) bool
	// Edges returns the edges linked now.
	Edges() []string
}

// Directory is what a home needs of the Redis directory: routes and
// presence, session leases, and the region's live nodes.
type Directory interface {
	directory.Directory
	directory.Leases
	directory.Handoffs
}

// Store is the Postgres store of sessions; *store.Store implements it. Every
// write is fenced by (owner epoch, version) in SQL.
type Store interface {
	Create(ctx context.Context, c store.Create) error
	Commit(ctx context.Context, c store.Commit) error
	FenceMany(ctx context.Context, want []store.SessionEpoch) (map[string]*court.Session, error)
	// Fence is FenceMany of one session; its error tells a session that
	// ended (store.ErrNotFound) from one live at that epoch or a newer one
	// (store.ErrFenced).
	Fence(ctx context.Context, sessionID string, epoch uint64) (*court.Session, error)
	// ActiveSessions lists the live sessions of a region, to rebuild the
	// directory from.
	ActiveSessions(ctx context.Context, region string) ([]store.ActiveRef, error)
}

// Config configures a home Server.
type Config struct {
	// NodeID names this node in the mesh and in session routes. Required.
	NodeID string
	// Region is this node's region, the home region of the sessions it
	// creates when the edge names none. Required.
	Region string
	// Directory stores routes, claims, presence and leases. Required.
	Directory Directory
	// Store persists sessions. Required.
	Store Store
	// Judge runs the LLM steps. Required.
	Judge judge.Judge
	// Mesh carries court:state events to edges. Required.
	Mesh Mesh
	// App reads the app's data for the checks before an action (profiles,
	// usage). Nil means appdata.Unconfigured(): "Supabase not configured".
	App *appdata.Source
	// Screen screens actions and their text before they apply
	// (docs/screen.md). Nil means screen.Dev, the deterministic dev
	// screener.
	Screen screen.Screener
	// TimerScale multiplies every court timeout (COURT_TIMER_SCALE). Zero
	// means DefaultTimerScale; a negative value is an error.
	TimerScale float64
	// LeaseTTL is the node lease: a node that has not renewed it for this
	// long is dead and its sessions are taken over. Zero means
	// DefaultLeaseTTL.
	LeaseTTL time.Duration
	// ClaimInterval is how often the node looks for sessions to take over.
	// Zero means DefaultClaimInterval.
	ClaimInterval time.Duration
	// Now is the clock of deadlines and timestamps. Nil means time.Now.
	Now func() time.Time
	// AfterCommit is a TEST-ONLY hook, nil in production: it is called with
	// the event of each committed transition ("accept", "timeout") after
	// the commit and before the states are pushed. courtd sets it only
	// from a test failpoint (cli/failpoint.go).
	AfterCommit func(event string)
	// Logger receives the server's logs. Nil means discard.
	Logger *slog.Logger
	// Registerer registers the server's metrics. Nil means they are not
	// registered.
	Registerer prometheus.Registerer
}

// Defaults of the zero fields of Config.
const (
	DefaultTimerScale    = 1
	DefaultLeaseTTL      = 1500 * time.Millisecond
	DefaultClaimInterval = 250 * time.Millisecond
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("home: invalid config")

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.NodeID == "":
		return c, fmt.Errorf("%w: NodeID required", ErrConfig)
	case c.Region == "":
		return c, fmt.Errorf("%w: Region required", ErrConfig)
	case c.Directory == nil:
		return c, fmt.Errorf("%w: Directory required", ErrConfig)
	case c.Store == nil:
		return c, fmt.Errorf("%w: Store required", ErrConfig)
	case c.Judge == nil:
		return c, fmt.Errorf("%w: Judge required", ErrConfig)
	case c.Mesh == nil:
		return c, fmt.Errorf("%w: Mesh required", ErrConfig)
	case c.TimerScale < 0:
		return c, fmt.Errorf("%w: TimerScale %g is negative", ErrConfig, c.TimerScale)
	case c.LeaseTTL < 0 || c.ClaimInterval < 0:
		return c, fmt.Errorf("%w: negative LeaseTTL or ClaimInterval", ErrConfig)
	}
	if c.TimerScale == 0 {
		c.TimerScale = DefaultTimerScale
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.ClaimInterval == 0 {
		c.ClaimInterval = DefaultClaimInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.App == nil {
		c.App = appdata.Unconfigured()
	}
	if c.Screen == nil {
		c.Screen = screen.Dev{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
