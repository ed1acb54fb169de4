// Package membership keeps a node in the cluster's membership
// (directory.Membership): it announces what the node is (id, role, region,
// addresses, version), its state and its load, renewed every TTL/3 and at
// once when the node's state changes; it withdraws the node when it stops;
// and it follows the other nodes' announcements for the roles that act on
// them (edges dial the homes they find).
package membership

import (
	"context"
	"log/slog"
	"time"

	"courtmesh/directory"
)

// Defaults. An announcement lives DefaultTTL unless renewed, so a node that
// dies is forgotten within it; Follow reads the membership every
// DefaultPoll, so a node that joins is used within about a second.
const (
	DefaultTTL  = 6 * time.Second
	DefaultPoll = time.Second
)

// withdrawTimeout bounds the withdrawal of a node that stops.
const withdrawTimeout = 2 * time.Second

// Announcer announces one node.
type Announcer struct {
	store directory.Membership
	ttl   time.Duration
	self  func() directory.Member
	log   *slog.Logger
	kick  chan struct{}
}

// NewAnnouncer returns an Announcer that announces self() under ttl (zero:
// DefaultTTL). self is called at every announcement; its Seen is set here.
func NewAnnouncer(store directory.Membership, ttl time.Duration, self func() directory.Member, log *slog.Logger) *Announcer {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Announcer{store: store, ttl: ttl, self: self, log: log, kick: make(chan struct{}, 1)}
}

// Kick announces at once, as when the node's state changed.
func (a *Announcer) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run announces every TTL/3, and at every Kick, until ctx ends; it then
// withdraws the node and returns nil. A failed announcement is logged and
// retried at the next tick.
func (a *Announcer) Run(ctx context.Context) error {
	tick := time.NewTicker(a.ttl / 3)
	defer tick.Stop()
	fails := 0
	for {
		m := a.self()
		m.Seen = time.Now().UTC()
		if err := a.store.Announce(ctx, m, a.ttl); err != nil && ctx.Err() == nil {
			if fails++; fails == 1 || fails%20 == 0 {
				a.log.Warn("membership announcement failed", "err", err, "fails", fails)
			}
		} else {
			fails = 0
		}
		select {
		case <-ctx.Done():
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), withdrawTimeout)
			defer cancel()
			if err := a.store.Withdraw(wctx, m.ID); err != nil {
				a.log.Warn("membership withdrawal failed", "err", err)
			}
			return nil
		case <-tick.C:
		case <-a.kick:
		}
	}
}

// Follow reads the membership every poll (zero: DefaultPoll) and calls
// apply with the live members, until ctx ends; it returns nil then. A failed
// read is logged and apply is not called for it, so the last good view
// stays in force.
func Follow(ctx context.Context, store directory.Membership, poll time.Duration, apply func([]directory.Member), log *slog.Logger) error {
	if poll <= 0 {
		poll = DefaultPoll
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	fails := 0
	for {
		members, err := store.Members(ctx)
		switch {
		case err == nil:
			fails = 0
			apply(members)
		case ctx.Err() == nil:
			if fails++; fails == 1 || fails%20 == 0 {
				log.Warn("membership read failed", "err", err, "fails", fails)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
