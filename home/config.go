package home

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
)

// Mesh sends events to other nodes. *mesh.Node implements it.
type Mesh interface {
	// SendEvent sends ev to the node nodeID without waiting for it to be
	// delivered.
	SendEvent(nodeID string, ev *wire.Event) error
}

// Config configures a home Server.
type Config struct {
	// NodeID names this node in the mesh and in session routes. Required.
	NodeID string
	// Region is this node's region, the home region of the sessions it
	// creates when the edge names none. Required.
	Region string
	// Directory stores routes, claims and presence. Required.
	Directory directory.Directory
	// Mesh carries court:state events to edges. Required.
	Mesh Mesh
	// TimerScale multiplies every court timeout (COURT_TIMER_SCALE). Zero
	// means 1; a negative value is an error.
	TimerScale float64
	// Now is the clock of deadlines and timestamps. Nil means time.Now.
	Now func() time.Time
	// Logger receives the server's logs. Nil means discard.
	Logger *slog.Logger
	// Registerer registers the server's metrics. Nil means they are not
	// registered.
	Registerer prometheus.Registerer
}

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
	case c.Mesh == nil:
		return c, fmt.Errorf("%w: Mesh required", ErrConfig)
	case c.TimerScale < 0:
		return c, fmt.Errorf("%w: TimerScale %g is negative", ErrConfig, c.TimerScale)
	}
	if c.TimerScale == 0 {
		c.TimerScale = 1
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
