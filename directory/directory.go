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
)

// Route says where a session lives.
type Route struct {
	SessionID  string `json:"session_id"`
	HomeRegion string `json:"home_region"`
	OwnerNode  string `json:"owner_node"`
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
	// is already in a session.
	CreateSession(ctx context.Context, r Route, creatorID, partnerID string) error
	// EndSession removes the session's route and the claims of the given
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
