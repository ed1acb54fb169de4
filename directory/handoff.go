package directory

import (
	"context"
	"fmt"
)

// Handoffs is the directed hand-off of sessions between home nodes, the
// mechanism of a live migration (docs/decisions.md, issue 8): the holder
// gives a session to a named node, possibly of another home region, instead
// of to whichever node rendezvous hashing picks. Implementations are safe
// for concurrent use.
type Handoffs interface {
	// Handoff gives up the lease node with incarnation holds on a session,
	// for target: in one atomic step the route's owner becomes target with
	// no incarnation (released, for target), its home region becomes region,
	// and the session moves from owned:<node> to handoff:<target>. Target's
	// next claim round acquires it at the next epoch; no other node may
	// while target is live (Acquire answers ErrOwned); if target is dead,
	// the region's claim rounds take it over as an orphan. It returns
	// ErrNotOwner when node with incarnation does not hold the lease,
	// ErrNotFound when the session has no route.
	Handoff(ctx context.Context, sessionID, node, incarnation, target, region string) error
	// HandedTo returns, sorted, the sessions handed off to node that it has
	// not cleared yet.
	HandedTo(ctx context.Context, node string) ([]string, error)
	// ClearHandoffs removes sessions from handoff:<node> (acquired, or
	// taken by another node), except those whose route still awaits node
	// (names it with no incarnation): a session handed to node again after
	// it read its set stays there for its next claim round, instead of
	// being stranded with no node to acquire it.
	ClearHandoffs(ctx context.Context, node string, sessionIDs ...string) error
}

func checkHandoff(node, incarnation, target, region string) error {
	if err := checkHolder(node, incarnation); err != nil {
		return err
	}
	if target == "" || region == "" {
		return fmt.Errorf("%w: hand-off needs a target node and region", errInvalid)
	}
	return nil
}
