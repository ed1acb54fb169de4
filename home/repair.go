package home

import (
	"context"
	"errors"
	"time"

	"courtmesh/directory"
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
// source of truth; Redis is rebuilt from it.
func (o *ownership) repairRound(ctx context.Context) {
	if _, ok := o.lease(); !ok || o.leaving.Load() {
		return
	}
	if n := o.repairHeld(ctx); n > 0 {
		o.log.Warn("directory repaired: routes of held sessions were missing", "sessions", n)
	}
	if directory.Rendezvous(repairKey, o.liveNodes()) != o.cfg.NodeID {
		return
	}
	if n, err := o.repairOrphans(ctx); err != nil {
		o.log.Warn("directory repair from the store failed", "err", err)
	} else if n > 0 {
		o.log.Warn("directory repaired: live sessions without a route released to the region", "sessions", n)
	}
}

// repairHeld re-creates the missing routes of the sessions this node holds,
// and steps down from a held session whose route names another owner or no
// live one (the directory was rebuilt under it): a claim round then takes it
// over properly, at the next epoch, from the store.
func (o *ownership) repairHeld(ctx context.Context) int {
	repaired := 0
	inc, _ := o.lease()
	for _, ref := range o.rt.held() {
		if ctx.Err() != nil {
			return repaired
		}
		r, err := o.cfg.Directory.RouteOf(ctx, ref.ID, false)
		if err == nil && r.OwnerNode == o.cfg.NodeID && r.OwnerInc == inc {
			continue
		}
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			continue
		}
		if o.repairRoute(ctx, ref.ID, inc) {
			repaired++
		}
	}
	return repaired
}

// repairRoute checks a held session's route again, from the store of
// record this time, and repairs it: re-created when missing (under the
// session's lock, so that the session cannot end meanwhile and leave a
// route behind), stepped down from when it names another owner. It reports
// whether it repaired anything.
func (o *ownership) repairRoute(ctx context.Context, id, inc string) bool {
	r, err := o.cfg.Directory.RouteOf(ctx, id, true)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return o.rt.whileHeld(id, func(ref heldRef) {
			route := directory.Route{SessionID: ref.ID, HomeRegion: o.cfg.Region, OwnerNode: o.cfg.NodeID,
				OwnerInc: inc, Epoch: ref.Epoch}
			if err := o.cfg.Directory.CreateSession(ctx, route, ref.Users[0], ref.Users[1]); err != nil {
				o.log.Warn("re-create route", "session", ref.ID, "err", err)
			}
		})
	case err == nil && (r.OwnerNode != o.cfg.NodeID || r.OwnerInc != inc):
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

// repairOrphans re-creates, released, the routes of live sessions of the
// region that the store has and the directory does not, once they have been
// missing for two rounds in a row: a node that holds such a session re-creates
// its route within one round, so only sessions no live node holds are left.
func (o *ownership) repairOrphans(ctx context.Context) (int, error) {
	refs, err := o.cfg.Store.ActiveSessions(ctx, o.cfg.Region)
	if err != nil {
		return 0, err
	}
	held := make(map[string]bool)
	for _, ref := range o.rt.held() {
		held[ref.ID] = true
	}
	missing := make(map[string]bool)
	repaired := 0
	for _, ref := range refs {
		if held[ref.ID] {
			continue
		}
		if _, err := o.cfg.Directory.RouteOf(ctx, ref.ID, true); !errors.Is(err, directory.ErrNotFound) {
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
	return repaired, nil
}
