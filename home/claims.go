package home

import (
	"context"
	"errors"
	"slices"
	"time"

	"courtmesh/directory"
	"courtmesh/home/store"
)

// claimWarmUp is how long a node that just started waits before its first
// claim round: the edges redial it (its stateless resets end their old links
// at once, the redial follows a backoff step later), and a session taken
// over before they have would lose its pushes to them.
const claimWarmUp = time.Second

// maxHandoffs bounds the sessions one claim round hands to a new peer, so a
// node joining the region moves its share over a few rounds, not in a burst.
const maxHandoffs = 500

// runClaims runs a claim round every ClaimInterval, after claimWarmUp.
func (o *ownership) runClaims(ctx context.Context) error {
	warm := time.NewTimer(claimWarmUp)
	select {
	case <-ctx.Done():
		warm.Stop()
		return nil
	case <-warm.C:
	}
	tick := time.NewTicker(o.cfg.ClaimInterval)
	defer tick.Stop()
	for {
		if err := o.claimRound(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("claim round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// claimRound takes over the sessions of the region that have no live owner
// and that rendezvous hashing gives to this node, and hands off the sessions
// it holds that now belong to a peer that joined. Who is alive comes from
// the node leases (fencing); rendezvous hashing places sessions only among
// the live nodes that take them (placement: not draining by the
// membership).
func (o *ownership) claimRound(ctx context.Context) error {
	o.rounds.Lock()
	defer o.rounds.Unlock()
	if _, ok := o.lease(); !ok || o.leaving.Load() {
		return nil
	}
	live, err := o.cfg.Directory.LiveNodes(ctx, o.cfg.Region)
	if err != nil {
		return err
	}
	liveIDs := make([]string, 0, len(live))
	for _, n := range live {
		liveIDs = append(liveIDs, n.ID)
	}
	place := o.placement(liveIDs)
	o.live.Store(&place)
	if !slices.Contains(liveIDs, o.cfg.NodeID) {
		return nil // not yet visible to the region
	}
	orphans, err := o.orphans(ctx, liveIDs)
	if err != nil {
		return err
	}
	held := make(map[string]bool)
	for _, ref := range o.rt.held() {
		held[ref.ID] = true
	}
	var mine []string
	for _, id := range orphans {
		if directory.Rendezvous(id, place) == o.cfg.NodeID && !held[id] {
			mine = append(mine, id)
		}
	}
	if _, err := o.takeOver(ctx, mine); err != nil {
		return err
	}
	if err := o.takeHandoffs(ctx); err != nil {
		return err
	}
	o.handOff(ctx, place)
	return nil
}

// takeHandoffs acquires the sessions handed to this node by a migration
// (directory.Handoffs) and pins them: rendezvous hashing does not hand them
// off again while this node holds them.
func (o *ownership) takeHandoffs(ctx context.Context) error {
	ids, err := o.cfg.Directory.HandedTo(ctx, o.cfg.NodeID)
	if err != nil || len(ids) == 0 {
		return err
	}
	installed, err := o.takeOver(ctx, ids)
	if err != nil {
		return err
	}
	o.pinMu.Lock()
	for _, id := range installed {
		o.pinned[id] = true
	}
	o.pinMu.Unlock()
	return o.cfg.Directory.ClearHandoffs(ctx, o.cfg.NodeID, ids...)
}

// isPinned reports whether session id came here by a migration.
func (o *ownership) isPinned(id string) bool {
	o.pinMu.Lock()
	defer o.pinMu.Unlock()
	return o.pinned[id]
}

// unpin forgets the pins of the sessions no longer held.
func (o *ownership) unpin(held map[string]bool) {
	o.pinMu.Lock()
	defer o.pinMu.Unlock()
	for id := range o.pinned {
		if !held[id] {
			delete(o.pinned, id)
		}
	}
}

// orphans lists the sessions of the region with no live owner: those of
// dead nodes (owned by them or handed to them), those released by live
// ones, and those still filed under this node by an earlier incarnation.
func (o *ownership) orphans(ctx context.Context, liveIDs []string) ([]string, error) {
	out, err := o.cfg.Directory.Released(ctx, o.cfg.Region)
	if err != nil {
		return nil, err
	}
	known, err := o.cfg.Directory.RegionNodes(ctx, o.cfg.Region)
	if err != nil {
		return nil, err
	}
	for _, n := range known {
		if slices.Contains(liveIDs, n) && n != o.cfg.NodeID {
			continue
		}
		owned, err := o.cfg.Directory.Owned(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, owned...)
		if n == o.cfg.NodeID {
			continue
		}
		handed, err := o.cfg.Directory.HandedTo(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, handed...)
	}
	return out, nil
}

// takeOver acquires the leases of ids (each acquisition increments the
// session's owner epoch), fences the store at the new epochs, and installs
// every session the store returns in the runtime. It returns the sessions
// it installed.
func (o *ownership) takeOver(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	start := time.Now()
	inc, _ := o.lease()
	routes, err := o.cfg.Directory.AcquireMany(ctx, ids, o.cfg.NodeID, inc)
	if err != nil && !errors.Is(err, directory.ErrLeaseLost) {
		return nil, err
	}
	want := make([]store.SessionEpoch, 0, len(routes))
	for id, r := range routes {
		want = append(want, store.SessionEpoch{ID: id, Epoch: r.Epoch})
	}
	sessions, err := o.cfg.Store.FenceMany(ctx, want)
	if err != nil {
		return nil, err
	}
	var installed, unfenced []string
	for _, se := range want {
		sess, ok := sessions[se.ID]
		if !ok {
			unfenced = append(unfenced, se.ID)
			continue
		}
		if o.rt.install(sess, se.Epoch) {
			installed = append(installed, se.ID)
		}
	}
	installed = append(installed, o.settleUnfenced(ctx, inc, unfenced, routes)...)
	o.metrics.leaseAcquisitions.Add(float64(len(installed)))
	o.log.Info("took over sessions", "sessions", len(installed), "not_fenced", len(unfenced), "took", time.Since(start))
	return installed, nil
}

// settleUnfenced settles the sessions of ids, acquired at the epochs of
// acquired, that the store refused to fence, and returns those a second
// fence installs after all. The store refuses a session that
//   - a newer owner fenced first: another node acquired it after this one
//     (it saw this node's lease lapse); its route, at the newer epoch, is
//     left alone;
//   - ended (or never committed): it leaves the directory;
//   - is live at that very epoch: this incarnation's own, dropped without
//     its lease released (a commit whose outcome was lost steps down, and
//     its release can fail with it), so the acquisition kept the epoch. Its
//     lease is released, and the next claim round takes it at the next
//     epoch; removing its route would cut the live session's users off
//     from it until the directory repair.
//
// If the routes cannot be read, nothing is settled: the sessions stay
// filed under this node and the next claim round tries again.
func (o *ownership) settleUnfenced(ctx context.Context, inc string, ids []string, acquired map[string]directory.Route) []string {
	if len(ids) == 0 {
		return nil
	}
	now, err := o.cfg.Directory.RoutesOf(ctx, ids)
	if err != nil {
		o.log.Warn("read the routes of sessions the store did not fence", "sessions", len(ids), "err", err)
		return nil
	}
	var installed []string
	for _, id := range ids {
		epoch := acquired[id].Epoch
		if r, ok := now[id]; ok && r.Epoch > epoch {
			o.log.Info("session taken over by a newer owner meanwhile", "session", id, "owner", r.OwnerNode, "epoch", r.Epoch)
			continue
		}
		sess, err := o.cfg.Store.Fence(ctx, id, epoch)
		switch {
		case err == nil:
			if o.rt.install(sess, epoch) {
				installed = append(installed, id)
			}
		case errors.Is(err, store.ErrNotFound):
			o.forget(ctx, id)
		case errors.Is(err, store.ErrFenced):
			if err := o.cfg.Directory.Release(ctx, id, o.cfg.NodeID, inc); err != nil && !errors.Is(err, directory.ErrNotOwner) {
				o.log.Warn("release session", "session", id, "err", err)
			}
		default:
			o.log.Warn("fence session", "session", id, "epoch", epoch, "err", err)
		}
	}
	return installed
}

// forget removes from the directory a session the store no longer has live
// (it ended, or never committed).
func (o *ownership) forget(ctx context.Context, id string) {
	if err := o.cfg.Directory.EndSession(ctx, id); err != nil {
		o.log.Warn("end session in directory", "session", id, "err", err)
	}
}

// handOff releases the sessions this node holds whose rendezvous owner among
// the live nodes is another node: a node that starts takes its share.
func (o *ownership) handOff(ctx context.Context, liveIDs []string) {
	moved := 0
	refs := o.rt.held()
	held := make(map[string]bool, len(refs))
	for _, ref := range refs {
		held[ref.ID] = true
	}
	o.unpin(held)
	for _, ref := range refs {
		if moved == maxHandoffs {
			break
		}
		if directory.Rendezvous(ref.ID, liveIDs) == o.cfg.NodeID || o.isPinned(ref.ID) {
			continue
		}
		if ref, ok := o.rt.drop(ref.ID); ok {
			o.release(ctx, ref)
			moved++
		}
	}
	if moved > 0 {
		o.log.Info("handed sessions to a peer", "sessions", moved)
	}
}
