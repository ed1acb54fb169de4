// Package home is the home role of courtmesh: the single writer of the court
// sessions it owns. Edges forward every client action to it over the mesh
// (HandleRequest); it runs the state machine of package court, keeps the
// sessions' timers and judge calls, and pushes each user's court:state to
// every edge that holds a socket of that user.
//
// A Server is two parts joined at a small seam (seam.go):
//
//   - ownership (ownership.go, claims.go, repair.go) decides which sessions
//     this node may act for: the node lease and its heartbeat, the claim
//     rounds that take over the sessions of dead nodes and of released
//     leases, the hand-off to a node that joins, the repair of the directory
//     after Redis lost it, the step-down when the lease runs out, and the
//     hand-over of every session on Shutdown. It reads and writes leases and
//     routes (directory.Leases), never a session's state.
//   - the session runtime, type sessions (sessions.go, actions.go,
//     actiontable.go, gate.go, commit.go, publish.go, retry.go, timers.go,
//     judge.go, handler.go), acts for the held sessions: the entry table, the session
//     lock, the app's checks, the commit path, timers, judge calls and the
//     pushes to edges.
//
// Ownership ends where a session is installed at an epoch; the runtime
// begins there. Ownership calls the runtime to install a session at an
// epoch, drop one, list the held ones, and run a step while one is held
// (heldSessions); the runtime asks ownership whether the node lease is
// valid, for the live nodes, and to hand back a session whose commit was
// fenced (leaseHolder). They are two types in one package, not two packages:
// they share the Config, the metrics and the held-session reference, the
// seam is unexported on purpose (no other package may install a session
// without a lease), and a package boundary would export it.
//
// Request flow:
//
//  1. HandleRequest: refused with shutting_down once Shutdown or Close
//     began; answered again from the outcome remembered for the request id
//     if it was answered in the last minute (an edge's retry; answers.go); checked (registered user, known event,
//     object payload).
//  2. The app's checks (gate.go, rules in package court, data from package
//     appdata, screening from package screen), outside any lock since they
//     read profiles and may wait on the screening service: an explicit null
//     payload refused; evidence, addendum and hybrid need AI consent, their
//     text is sanitised and screened, and the handler sees the sanitised
//     payload. A refusal is answered like a court rule's, coded ones with
//     their code (protocol.CodedRefusal). They are the validate step of a
//     client action: the commit path's own validate (step 5) checks only
//     what the node may do, and timers and judge results skip this step.
//  3. The action's transition is built from the (sanitised) payload
//     (actiontable.go), outside any lock.
//  4. lockUser takes the lock of the user's session. No session held here:
//     the directory is asked who owns it, and the request is answered
//     not_owner (another node owns it; the edge re-routes), unavailable (it
//     is being taken over here), or, for a user in no session, IDLE (a read)
//     or the event's no-session refusal (an action).
//  5. commitLocked, the commit path of every transition (a client action, a
//     fired timer, a judge result): validate (lease valid, session held) →
//     transition (on a copy) → persist (one fenced Postgres transaction with
//     its side effects, a verdict's usage count among them) → apply (the copy replaces the held session, timers
//     re-armed, an ended session dropped and its route removed) → publish
//     (states and events enqueued to the edges, judge calls spawned). A new
//     session (serve) first passes the serve checks (checkServe: screening,
//     partner, couple id, the couple's usage this month, then the session's
//     languages), right before create: the same steps, persisting its route
//     and user claims in Redis and the session in Postgres. A deliberation's
//     judge call first re-reads the couple's usage (usageBeforeVerdict); over
//     the limit, its transition is the error verdict.
//  6. The lock is released; the ack, with the caller's view of the new state,
//     goes back to the edge and is remembered for retries.
//
// Lock discipline. The session lock (entry.mu) serialises the transitions of
// one session; different sessions run in parallel. Every function that needs
// it held ends in Locked; lockUser, fire, applyResult, snapshot, drop and
// whileHeld take it themselves. Held under it, by decision: the Postgres
// commit (the fence and the version check are what make the transition the
// only one), the directory writes that end a session, release a fenced one
// or write a lost route back (so that once the lock is free the directory
// agrees with the held sessions: a serve right after an end is not refused
// as busy, and a repair cannot bring back the route of a session that just
// ended), and the publication, presence reads
// from Redis included: the mesh only enqueues, and each edge then receives a
// session's states in version order, the IDLE of an ended session last.
// A slow Redis thus delays the next action of that session only, by at most
// pushTimeout. Not held under it: the app's checks, building the transition, the directory
// lookups of a request that finds no session, judge calls (spawned; their
// result is committed as a transition of its own), claim, repair and
// hand-off rounds' directory reads, and the lease releases of hand-off and
// hand-over, which drop the session first. Lock order: a session lock, then
// the registry's or the timer queue's mutex; neither is held while taking a
// session lock.
//
// Timers are data. A session carries its phase deadline; the runtime keeps
// one in-memory timer per session, armed from that deadline (a deadline
// already past fires at once). A fired timer acts only if the session's phase
// and version are still those it was armed for, so no stale timer fires.
//
// Delivery. Every court:state carries the session id and version; when a
// session ends, both users get the IDLE state with the version of the ending
// transition, one above the last state they saw, so edges order it last; an
// edge drops a state older than one it has delivered, and a pushed one it
// has already delivered. A live session's states go to each edge as one
// court:state document for the users there, whole the first time and then
// as the fields that changed (statedocs.go, package mesh/statedoc); the edge
// rebuilds each user's court:state from its copy and resyncs the users of a
// delta it cannot apply. A court:state that cannot be queued to an edge (its
// link is down) is kept, the newest per edge and user, and queued again when
// the link comes back (retry.go, EdgeLinkUp); the edges resync their sockets
// on a flapped link themselves (docs/ownership.md, "Delivery").
//
// Lifecycle (package lifecycle): Run keeps the lease, the claim and repair
// rounds and the timers going; Drain (drain.go) makes the node leave the
// region (its node lease deleted, so the region's claim rounds take every
// session it held over within a claim round) and keeps it up, drained, until
// Undrain rejoins it under a new incarnation; Shutdown is that drain, then
// Close; Close stops at once, leaving the sessions to be taken over after
// the lease TTL. Migrate (migrate.go) moves one held session live to a named
// node, of this region or another, by a directed hand-off
// (directory.Handoffs); the target pins it against its rendezvous hand-off.
package home
