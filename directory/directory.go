package directory

import (
	"context"
	"errors"
	"time"
)

// Errors.
var (
	// ErrNotFound means the user is in no session, or the session has no route.
	ErrNotFound = errors.New("directory: not found")
	// ErrUserBusy means a user to be claimed by a new session is already in one.
	ErrUserBusy = errors.New("directory: user already in a session")
	// ErrOwned means another live node holds the session's lease.
	ErrOwned = errors.New("directory: session owned by a live node")
	// ErrNotOwner means the caller does not hold the session's lease.
	ErrNotOwner = errors.New("directory: not the session's owner")
	// ErrLeaseLost means the caller's node lease (node:<id> with its
	// incarnation) is not held, so it may not acquire sessions.
	ErrLeaseLost = errors.New("directory: node lease not held")
	// ErrNodeInUse means a live lease of the node id names another
	// incarnation: another process runs with that id, or the previous
	// process's lease has not expired yet.
	ErrNodeInUse = errors.New("directory: node id held by another incarnation")
)

// Route says where a session lives.
type Route struct {
	SessionID  string `json:"session_id"`
	HomeRegion string `json:"home_region"`
	OwnerNode  string `json:"owner_node"`
	// OwnerInc is the incarnation of OwnerNode that holds the lease; empty
	// when the session is released (any node may acquire it). The lease is
	// valid while the node lease of OwnerNode names OwnerInc.
	OwnerInc string `json:"owner_inc,omitempty"`
	// Epoch is the owner epoch (fencing token); it grows at every acquisition.
	Epoch uint64 `json:"epoch"`
}

// Directory is the narrow interface every role uses. Implementations are safe
// for concurrent use.
type Directory interface {
	// Lookup returns the route of the session userID is in, or ErrNotFound.
	// With fresh false the answer may come from a coherent local cache; with
	// fresh true it is read from the store. Coherent means the cache drops an
	// entry as soon as the store's invalidation reaches this node, so a cached
	// answer can lag any write, this node's own included, by that delivery
	// time (Redis sends invalidations after the write's reply). A caller that
	// must see a write it knows of, or doubts an ErrNotFound, asks fresh.
	Lookup(ctx context.Context, userID string, fresh bool) (Route, error)
	// RouteOf returns the route of a session, or ErrNotFound.
	RouteOf(ctx context.Context, sessionID string, fresh bool) (Route, error)
	// CreateSession stores r and claims both users for r.SessionID in one
	// atomic step. It returns ErrUserBusy, and changes nothing, if either user
	// is already in a session. r.OwnerNode (the creating node) with
	// r.OwnerInc holds the new lease: the session joins owned:<OwnerNode>,
	// or released:<HomeRegion> when OwnerInc is empty. A zero r.Epoch is
	// stored as 1.
	CreateSession(ctx context.Context, r Route, creatorID, partnerID string) error
	// EndSession removes the session's route, its entry in its owner's
	// owned set and its region's released set, and the claims of the given
	// users that still point at it.
	EndSession(ctx context.Context, sessionID string, userIDs ...string) error
	// AddPresence records that edgeNode holds sockets of the given users, for
	// ttl unless refreshed by another AddPresence.
	AddPresence(ctx context.Context, edgeNode string, ttl time.Duration, userIDs ...string) error
	// RemovePresence records that edgeNode no longer holds sockets of userID.
	RemovePresence(ctx context.Context, edgeNode, userID string) error
	// Presence returns, sorted, the edges that hold live sockets of userID.
	// It may come from the coherent local cache, with the lag Lookup
	// describes.
	Presence(ctx context.Context, userID string) ([]string, error)
}
