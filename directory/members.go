package directory

import (
	"context"
	"fmt"
	"time"
)

// Member states, as a node announces them.
const (
	StateActive   = "active"   // takes new work
	StateDraining = "draining" // hands its work away, takes none
	StateDrained  = "drained"  // holds nothing, takes nothing
)

// Member is what a node announces about itself in the membership.
type Member struct {
	ID     string `json:"id"`
	Role   string `json:"role"` // "edge" or "home"
	Region string `json:"region"`
	// MeshAddr is the QUIC address a home listens on, host:port; empty for
	// an edge (edges only dial).
	MeshAddr string `json:"mesh_addr,omitempty"`
	// AdminAddr is the node's authenticated admin listener, host:port;
	// empty when it has none.
	AdminAddr string `json:"admin_addr,omitempty"`
	Version   string `json:"version"`
	State     string `json:"state"`
	// Sockets is the sockets an edge holds; Sessions the sessions a home
	// holds.
	Sockets  int `json:"sockets"`
	Sessions int `json:"sessions"`
	// Links is the mesh links up, of Peers known.
	Links int `json:"links"`
	Peers int `json:"peers"`
	// Started is when the node started; Seen when it last announced, both
	// from the node's clock.
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`
}

// Membership is the live set of nodes (docs/decisions.md, "Membership"):
// each node announces itself under a TTL it renews, and is forgotten once it
// lapses. Implementations are safe for concurrent use.
type Membership interface {
	// Announce records m for ttl, replacing what m.ID announced before.
	Announce(ctx context.Context, m Member, ttl time.Duration) error
	// Withdraw forgets node id at once (a node that stopped).
	Withdraw(ctx context.Context, id string) error
	// Members returns, sorted by ID, the nodes whose announcement is live.
	Members(ctx context.Context) ([]Member, error)
}

// checkMember validates the arguments of Announce.
func checkMember(m Member, ttl time.Duration) error {
	switch {
	case m.ID == "":
		return fmt.Errorf("%w: empty member id", errInvalid)
	case m.Role != "edge" && m.Role != "home":
		return fmt.Errorf("%w: member role %q", errInvalid, m.Role)
	case m.Region == "":
		return fmt.Errorf("%w: empty member region", errInvalid)
	case m.State != StateActive && m.State != StateDraining && m.State != StateDrained:
		return fmt.Errorf("%w: member state %q", errInvalid, m.State)
	case ttl < time.Millisecond:
		return fmt.Errorf("%w: member ttl %v below 1ms", errInvalid, ttl)
	}
	return nil
}
