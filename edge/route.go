package edge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
)

var (
	// errNoSession: court:register for a user in no session.
	errNoSession = errors.New("edge: user is in no session")
	// errNoHome: no home node of the chosen region has its link up.
	errNoHome = errors.New("edge: no home node reachable")
)

// retryPauses are the pauses before the retries of a request that failed
// for a reason that passes (the owner is being taken over, a link is down,
// the home is draining); the last one repeats. Retries stop once
// retryBudget has passed since the first try: long enough to ride out a home
// failover (a lease TTL plus a claim round, about 2 s), short enough that
// a client cut off from its home region hears so within a few seconds.
// timing_test.go checks the schedule on a synctest clock.
var retryPauses = [...]time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
	400 * time.Millisecond, 800 * time.Millisecond}

const retryBudget = 3 * time.Second

// freshReadTimeout bounds one fresh directory read: far above a read of a
// primary across the ocean, far below the action's timeout.
const freshReadTimeout = 2 * time.Second

// forward sends req to the home that owns the user's session, or to a home
// of the policy's region when the user has none. A temporary failure (not
// the owner any more, link down, owner being taken over, home draining) is
// retried with a fresh directory read until the action's deadline, so a
// client acting during a home failover sees a slower ack rather than an
// error. The first not_owner is retried at once: the route most likely came
// from a cache that is behind (a moved session, a lagging replica). A retried request may have been applied before its answer was lost;
// the state machine's guards then refuse the repeat, and the state the
// client fetches is right either way.
//
// The first try reads the directory from its cache (the regional replica's,
// when there is one), which may be stale; freshFirst reads the primary
// from the first try (a resync whose cached read found no session).
//
// An answer whose state the home left in a document gets its state here
// (docacks.go), so every caller gets a whole ack.
func (s *Server) forward(ctx context.Context, req *wire.Request, freshFirst bool) (*wire.Response, error) {
	start := time.Now()
	for attempt, pauses := 0, 0; ; attempt++ {
		resp, err := s.try(ctx, req, freshFirst || attempt > 0)
		if err == nil && resp.StateInDoc {
			return s.ackFromDoc(ctx, req.UserID, resp)
		}
		if err == nil || !temporary(err) || time.Since(start) > retryBudget {
			return resp, err
		}
		if attempt == 0 && !freshFirst && notOwner(err) {
			continue // maybe a stale cached route: read the primary and redirect at once
		}
		pause := retryPauses[min(pauses, len(retryPauses)-1)]
		pauses++
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// temporary reports whether a failed request may succeed if sent again.
func temporary(err error) bool {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Temporary || we.Code == wire.CodeNotOwner || we.Code == wire.CodeShuttingDown
	}
	return errors.Is(err, errNoHome)
}

// notOwner reports whether a home answered that it does not own the
// session.
func notOwner(err error) bool {
	var we *wire.Error
	return errors.As(err, &we) && we.Code == wire.CodeNotOwner
}

// try sends req once. A fresh directory read goes to the primary, which
// may be across the ocean and cut off, so it is bounded by freshReadTimeout:
// a partition then fails the action soon after the retry budget instead of
// holding it for its whole timeout.
func (s *Server) try(ctx context.Context, req *wire.Request, fresh bool) (*wire.Response, error) {
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if fresh {
		pctx, cancel = context.WithTimeout(ctx, freshReadTimeout)
	}
	node, home, err := s.pick(pctx, req.UserID, fresh, req.Event == evRegister || req.Event == evReadState)
	cancel()
	if err != nil {
		return nil, err
	}
	req.HomeRegion = home
	resp, err := s.cfg.Mesh.Request(ctx, node, req)
	if err != nil {
		return nil, fmt.Errorf("request %s from %s: %w", req.Event, node, err)
	}
	if resp == nil {
		return nil, fmt.Errorf("request %s from %s: empty response", req.Event, node)
	}
	return resp, nil
}

// pick returns the node to ask and, for a user in no session, the home
// region the new session will live in. A read of the state (register) of a
// user in no session needs no home: it fails with errNoSession.
func (s *Server) pick(ctx context.Context, user string, fresh, register bool) (node, homeRegion string, err error) {
	rt, err := s.cfg.Directory.Lookup(ctx, user, fresh)
	switch {
	case err == nil && rt.OwnerNode != "":
		return rt.OwnerNode, "", nil
	case err == nil: // released: the region's claim loops place it by rendezvous on its id
		node, err = s.homeNode(rt.HomeRegion, rt.SessionID)
		return node, "", err
	case errors.Is(err, directory.ErrNotFound) && register:
		return "", "", errNoSession
	case errors.Is(err, directory.ErrNotFound):
		node, err = s.homeNode(s.homeRegion, user)
		return node, s.homeRegion, err
	}
	return "", "", fmt.Errorf("look up user: %w", err)
}

// homeNode picks a reachable home node of region for key (the creator of a
// new session, or a released session's id) by rendezvous hashing, the same
// hashing the homes place sessions by: stable while the set of nodes stays
// the same.
func (s *Server) homeNode(region, key string) (string, error) {
	node := directory.Rendezvous(key, s.cfg.Mesh.HomeNodes(region))
	if node == "" {
		return "", fmt.Errorf("%w in %s", errNoHome, region)
	}
	return node, nil
}
