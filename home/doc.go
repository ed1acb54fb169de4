// Package home is the home role of courtmesh: the single writer of the court
// sessions it owns. Edges forward every client action to it over the mesh
// (HandleRequest); it runs the state machine of package court, keeps the
// sessions' timers, and pushes each user's court:state to every edge that
// holds a socket of that user (Directory.Presence, then Mesh.SendEvent).
//
// Ownership. A session is created by the home that handles its court:serve:
// the directory's CreateSession claims both users atomically, so crossed
// serves give exactly one session. A request for a user whose session
// another node owns is answered with a *wire.Error of code not_owner; the
// edge re-routes it.
//
// Serialisation. Sessions live in memory, indexed by id and by user. Each
// has its own mutex, so the transitions of one session run one at a time
// while different sessions run in parallel. A transition runs on a copy of
// the session and replaces it only once its commit (today the directory
// write; later the conditional store write) succeeded, so a failed commit
// changes nothing and the caller gets a clear error.
//
// Timers are data. A session carries its phase deadline; the owner keeps one
// in-memory timer per session, armed from that deadline (a deadline already
// past fires at once). A fired timer acts only if the session's phase and
// version are still those it was armed for, so no stale timer fires.
//
// Delivery. Every court:state carries the session id and version; when a
// session ends, both users get the IDLE state with the version of the ending
// transition, one above the last state they saw, so edges order it last.
// Pushes go out after the session's lock is released; an edge drops a state
// older than one it has delivered.
//
// Lock order: session entry mutex, then the registry mutex or the timer
// queue mutex. Neither of the latter is held while taking an entry mutex.
package home
