// Package directory owns where things are in the mesh: which session a user is
// in, which home region and node own a session (and the owner epoch), which
// edges hold a user's sockets (presence), the leases of home nodes and
// sessions (docs/ownership.md), and global per-user rate limits. Redis
// (rueidis, with client-side caching on the hot-path lookups) is the
// production store; Memory is the embedded stand-in `courtd dev` uses when
// REDIS_URL is unset.
//
// Semantics shared by both implementations:
//
//   - A user is in a session when its claim names a session whose route
//     still exists. A claim whose route is gone is stale: Lookup reports
//     ErrNotFound for it and CreateSession may overwrite it.
//   - CreateSession is one atomic step, so crossed serves (A serves B while B
//     serves A) give exactly one success; the other gets ErrUserBusy.
//   - A route of r.SessionID that no live claim points at is an orphan and is
//     replaced by CreateSession.
//   - Presence is a set of (edge, expiry) per user. AddPresence overwrites the
//     expiry of that edge; Presence reports, sorted, the edges whose expiry is
//     still ahead. Expiry times are wall-clock unix milliseconds taken from
//     the writer's clock, so nodes are assumed to run NTP.
//   - Interfaces: Directory (routes and presence, every role), Leases (node
//     and session leases, home nodes), Limiter and Counter (edges: a
//     RegionalLimiter answers in-process and reconciles with the shared
//     Counter off the ack path), Membership (the live nodes and what they
//     announce); Store is all of them, and both Redis and Memory implement
//     it. Directory is unchanged so fakes of it stay valid.
//   - Redis may read from a regional replica (RedisConfig.Replica): cached
//     lookups there, writes and fresh reads on the primary. A stale answer
//     costs the caller a redirect, never a second owner (docs/ownership.md).
//   - A node lease is node:<id> = incarnation with a TTL; a session lease is
//     its Route (OwnerNode, OwnerInc, Epoch), valid while the node lease of
//     OwnerNode names OwnerInc. OwnerInc empty means released. Every
//     acquisition increments the epoch; a session is in owned:<OwnerNode>
//     while OwnerInc is set (even once that node died), and in
//     released:<HomeRegion> while it is empty.
//   - Rendezvous spreads sessions (and new sessions' creators) over nodes.
//
// The package directory/redistest connects tests to the real Redis.
package directory
