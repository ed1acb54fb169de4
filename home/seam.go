package home

import (
	"context"

	"courtmesh/home/court"
)

// The seam between ownership and the session runtime. Ownership decides
// which sessions this node may act for; the runtime acts for them. Each side
// sees the other only through the interface below, so either can be read,
// changed and tested without the other's internals.

// heldRef names a session the runtime holds: what ownership needs to release
// its lease or write its route back.
type heldRef struct {
	ID    string
	Users [2]string
	Epoch uint64
}

// heldSessions is what ownership needs of the runtime (*sessions).
type heldSessions interface {
	// install starts acting for sess at owner epoch epoch: it is indexed,
	// its timers armed from its stored deadlines, its pending judge calls
	// made again. It reports false, and does nothing, if a user of sess is
	// in another held session or the runtime is closing.
	install(sess *court.Session, epoch uint64) bool
	// drop stops acting for session id at once (no timers, no index entry,
	// no further commit) and returns what it held. It waits for a commit of
	// the session in flight. It reports false if id was not held.
	drop(id string) (heldRef, bool)
	// held lists the held sessions.
	held() []heldRef
	// whileHeld runs f with session id's lock held, if the session is held:
	// nothing commits, ends or drops it meanwhile. It reports whether f ran.
	whileHeld(id string, f func(heldRef)) bool
}

// leaseHolder is what the runtime needs of ownership (*ownership).
type leaseHolder interface {
	// lease returns the incarnation this node acts under and whether its
	// node lease is valid now; a runtime acts only while it is.
	lease() (incarnation string, valid bool)
	// creatingUnderLease holds the lease from a creation's lease check
	// until its session is in the store: the node does not leave the
	// region meanwhile. The caller calls release.
	creatingUnderLease() (release func())
	// liveNodes returns the region's live home nodes as the last claim round
	// saw them, to place new sessions by rendezvous hashing.
	liveNodes() []string
	// handBack releases the lease of a session the runtime dropped because
	// the store fenced its commit or the commit's outcome is unknown, so a
	// claim round takes it over at the next epoch and reloads it from the
	// store.
	handBack(ctx context.Context, ref heldRef)
}

var (
	_ heldSessions = (*sessions)(nil)
	_ leaseHolder  = (*ownership)(nil)
)
