package home

import (
	"context"
	"time"

	"courtmesh/directory"
	"courtmesh/home/store"
)

// repairInterval is how often a home checks that the directory (a cache in
// Redis) still knows what the store knows.
const repairInterval = 5 * time.Second

// repairKey is the rendezvous key that picks the one node of a region that
// rebuilds routes of sessions nobody holds.
const repairKey = "directory-repair"

// runRepair runs a repair round every repairInterval.
func (o *ownership) runRepair(ctx context.Context) error {
	tick := time.NewTicker(repairInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		o.repairRound(ctx)
	}
}

// repairRound rebuilds the directory after Redis lost it (a restart without
// persistence, a failover to an empty replica): every node re-creates the
// routes and claims of the sessions it holds, and one node of the region
// re-creates, as released, the routes of live sessions in Postgres that no
// route names, so that a claim round takes them over. Postgres is the
// source of truth; Redis is rebuilt from it. The round reads every route
// it checks in one pipeline.
func (o *ownership) repairRound(ctx context.Context) {
	inc, ok := o.lease()
	if !ok || o.leaving.Load() {
		return
	}
	held := o.rt.held()
	ids := make([]string, 0, len(held))
	heldIDs := make(map[string]bool, len(held))
	for _, ref := range held {
		ids = append(ids, ref.ID)
		heldIDs[ref.ID] = true
	}
	var active []store.ActiveRef
	if directory.Rendezvous(repairKey, o.liveNodes()) == o.cfg.NodeID {
		refs, err := o.cfg.Store.ActiveSessions(ctx, o.cfg.Region)
		if err != nil {
			o.log.Warn("directory repair from the store failed", "err", err)
		}
		for _, ref := range refs {
			if !heldIDs[ref.ID] {
				active = append(active, ref)
				ids = append(ids, ref.ID)
			}
		}
	}
	routes, err := o.cfg.Directory.RoutesOf(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Warn("directory repair: read routes", "err", err)
		}
		return
	}
	if n := o.repairHeld(ctx, held, routes, inc); n > 0 {
		o.log.Warn("directory repaired: routes of held sessions were missing", "sessions", n)
	}
	if n := o.repairOrphans(ctx, active, routes); n > 0 {
		o.log.Warn("directory repaired: live sessions without a route released to the region", "sessions", n)
	}
}

// repairHeld re-creates the missing routes of the sessions this node holds,
// and steps down from a held session whose route names another owner (the
// directory was rebuilt under it): a claim round then takes it over
// properly, at the next epoch, from the store. routes are the routes read
// this round.
func (o *ownership) repairHeld(ctx context.Context, held []heldRef, routes map[string]directory.Route, inc string) int {
	repaired := 0
	for _, ref := range held {
		if ctx.Err() != nil {
			return repaired
		}
		r, found := routes[ref.ID]
		if found && r.OwnerNode == o.cfg.NodeID && r.OwnerInc == inc {
			continue
		}
		if o.repairRoute(ctx, ref.ID, inc, r, found) {
			repaired++
		}
	}
	return repaired
}

// repairRoute repairs a held session's route as read this round: re-created
// when missing (under the session's lock, so that the session cannot end
// meanwhile and leave a route behind), stepped down from when it names
// another owner. It reports whether it repaired anything.
func (o *ownership) repairRoute(ctx context.Context, id, inc string, r directory.Route, found bool) bool {
	switch {
	case !found:
		return o.rt.whileHeld(id, func(ref heldRef) {
			route := directory.Route{SessionID: ref.ID, HomeRegion: o.cfg.Region, OwnerNode: o.cfg.NodeID,
				OwnerInc: inc, Epoch: ref.Epoch}
			if err := o.cfg.Directory.CreateSession(ctx, route, ref.Users[0], ref.Users[1]); err != nil {
				o.log.Warn("re-create route", "session", ref.ID, "err", err)
			}
		})
	case r.OwnerNode != o.cfg.NodeID || r.OwnerInc != inc:
		ref, ok := o.rt.drop(id)
		if ok {
			o.log.Warn("route names another owner: stepping down for the session", "session", id, "owner", r.OwnerNode)
			o.metrics.leaseLosses.Inc()
			o.release(ctx, ref)
		}
		return ok
	}
	return false
}

// repairOrphans re-creates, released, the routes of the live sessions of
// the region in active (from the store, none held here) that routes (read
// this round) lacks, once they have been missing for two rounds in a row: a
// node that holds such a session re-creates its route within one round, so
// only sessions no live node holds are left.
func (o *ownership) repairOrphans(ctx context.Context, active []store.ActiveRef, routes map[string]directory.Route) int {
	missing := make(map[string]bool)
	repaired := 0
	for _, ref := range active {
		if _, found := routes[ref.ID]; found {
			continue
		}
		missing[ref.ID] = true
		if !o.missingBefore[ref.ID] {
			continue
		}
		route := directory.Route{SessionID: ref.ID, HomeRegion: o.cfg.Region, Epoch: ref.OwnerEpoch}
		if err := o.cfg.Directory.CreateSession(ctx, route, ref.Users[0], ref.Users[1]); err != nil {
			o.log.Warn("re-create released route", "session", ref.ID, "err", err)
			continue
		}
		delete(missing, ref.ID)
		repaired++
	}
	o.missingBefore = missing
	return repaired
}
