// Package court is the court session state machine of court-protocol.md §3:
// the internal session record (§3.1), the per-user view phases (§3.2), the
// sanitised state object sent to clients (§2.4), the timeouts (§3.3) and the
// transitions (§3.5) with their exact, client-visible error strings.
//
// It is pure: no I/O, no goroutines, no clock. Callers pass the time in and
// own the record; every transition either returns an error and leaves the
// session untouched, or changes it and increments Session.Version. Timers are
// data: a transition that enters a timed phase sets Session.PhaseDeadline,
// and the owner arms a timer from it and calls Expire when it is due.
//
// A session whose transition ended it (toss, cancel, dismiss, the removal of
// a CLOSED session) has Phase PhaseIdle and an EndReason; its view is the
// IDLE state, and its owner removes it.
//
// The sanitised session carries one field the original server does not send:
// "version", the session version, which orders court:state deliveries
// (DESIGN.md "Delivery"). Clients ignore it.
package court
