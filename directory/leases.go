package directory

import (
	"context"
	"time"
)

// nodeHistory is how long RegionNodes remembers a node after its last
// heartbeat.
const nodeHistory = time.Hour

// NodeInfo is a live home node.
type NodeInfo struct {
	ID          string `json:"id"`
	Incarnation string `json:"incarnation"`
}

// Leases is the ownership half of the directory (docs/ownership.md): node
// leases, and session leases bound to them. A session's lease is its Route
// (OwnerNode, OwnerInc, Epoch); it is valid while the node lease of
// OwnerNode names OwnerInc. Implementations are safe for concurrent use.
type Leases interface {
	// Heartbeat takes or renews the node lease of node for ttl with its
	// incarnation, and records node as a home node of region. It returns
	// ErrNodeInUse, and changes nothing, while a live lease of node names
	// another incarnation.
	Heartbeat(ctx context.Context, node, region, incarnation string, ttl time.Duration) error
	// Leave ends the node lease of node if it names incarnation (a node
	// shutting down after it released its sessions): the node is no longer
	// live, so rendezvous hashing counts it out at once and the sessions
	// still filed under it are orphans. Another incarnation's lease, or
	// none, is left as it is.
	Leave(ctx context.Context, node, incarnation string) error
	// LiveNodes returns, sorted by ID, the nodes of region whose lease is live.
	LiveNodes(ctx context.Context, region string) ([]NodeInfo, error)
	// RegionNodes returns, sorted, every node of region that heartbeated in
	// the last hour, dead ones included.
	RegionNodes(ctx context.Context, region string) ([]string, error)
	// Acquire takes the lease of a session for node with incarnation, in one
	// atomic step:
	//   - the route's owner is alive with another node or incarnation:
	//     ErrOwned, with the current route;
	//   - the session is handed off (Handoffs) to another node that is
	//     live: ErrOwned, with the current route. Only the target acquires
	//     it, so no claim round that listed the session before the hand-off
	//     (its former holder's, a peer's that saw it released) takes a
	//     migrated session; a dead target's are orphans as before;
	//   - node with incarnation already holds it: the route, unchanged;
	//   - otherwise (owner dead, or released): epoch+1, owner := node and
	//     incarnation, the session moves to owned:<node>.
	// It returns ErrLeaseLost when node's own lease does not name
	// incarnation, and ErrNotFound when the session has no route.
	Acquire(ctx context.Context, sessionID, node, incarnation string) (Route, error)
	// AcquireMany is Acquire of many sessions in one pipeline. The map holds
	// the routes of the sessions node now holds; those owned by others, or
	// without a route, are left out. ErrLeaseLost is returned (with what was
	// acquired) when node's lease does not name incarnation.
	AcquireMany(ctx context.Context, sessionIDs []string, node, incarnation string) (map[string]Route, error)
	// Release gives up the lease node with incarnation holds: OwnerInc
	// becomes empty (OwnerNode stays, for history) and the session moves
	// from owned:<node> to released:<home region>. It returns ErrNotOwner
	// when node with incarnation does not hold the lease, ErrNotFound when
	// the session has no route.
	Release(ctx context.Context, sessionID, node, incarnation string) error
	// Owned returns, sorted, the sessions whose lease node holds or held
	// when it died (owned:<node>). Owned and Released may still list a
	// session whose route expired by its 48 h hygiene TTL without
	// EndSession; Acquire reports ErrNotFound for it.
	Owned(ctx context.Context, node string) ([]string, error)
	// Released returns, sorted, the released sessions of region.
	Released(ctx context.Context, region string) ([]string, error)
	// RoutesOf reads the routes of many sessions from the store, never a
	// cache, in one pipeline. Sessions without a route are left out.
	RoutesOf(ctx context.Context, sessionIDs []string) (map[string]Route, error)
}

// Limiter counts events per user in fixed windows shared by every node.
type Limiter interface {
	// Allow counts one event of userID and reports whether the count is
	// still within limit for the current window of length window; if not,
	// retryAfter is the time left in that window, in (0, window]. Windows
	// are aligned to the Unix epoch. The count goes up even when refused.
	Allow(ctx context.Context, userID, event string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Store is everything a node needs from the directory: Redis and Memory
// implement it.
type Store interface {
	Directory
	Leases
	Limiter
	Counter
	Revocations
	Membership
	Handoffs
}
