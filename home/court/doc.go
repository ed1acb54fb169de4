// Package court is the court session state machine of court-protocol.md §3:
// the internal session record (§3.1), the per-user view phases (§3.2), the
// sanitised state object sent to clients (§2.4), the timeouts (§3.3), the
// transitions (§3.5–§3.9) with their exact, client-visible error strings,
// and the case rows a closed session stores (§4.5).
//
// It is pure: no I/O, no goroutines, no clock. Callers pass the time in and
// own the record; every transition either returns an error and leaves the
// session untouched, or changes it and increments Session.Version exactly
// once. A call that is accepted but has nothing to change (a repeated ready
// or accept, a hybrid request while one exists or is pending) returns nil
// and leaves Version as it was: there is nothing to commit.
//
// Timers are data: a transition that enters a timed phase sets
// Session.PhaseDeadline, a settlement request sets SettlementDeadline, and
// the owner arms timers from them and calls Expire or ExpireSettlement when
// they are due.
//
// Side effects are data too: a transition appends Effects (pushes, memory
// jobs, the case to save, judge calls, settlement events), which the owner
// takes with TakeEffects and commits with the new state. The judge's
// results come back through ApplyDeliberation, FailDeliberation,
// ApplyHybrid and FailHybrid, which apply only while the session still
// awaits the call that asked (R8, R10).
//
// A session whose transition ended it (toss, cancel, dismiss, settlement,
// the removal of a CLOSED session) has Phase PhaseIdle and an EndReason; its
// view is the IDLE state, and its owner removes it.
//
// Fixes of court-protocol.md §6 made here: a stale judge result is refused
// (R8); a closed session refuses a second accept, so one case is saved (R9);
// a mismatch asks for one hybrid (R10); an error verdict has a VERDICT timer
// that tosses it and can never be accepted into a case (R11); a settlement
// request is dropped when the session leaves EVIDENCE and ANALYZING, is
// accepted only there, and a partner cannot replace the other's pending
// request (R13); each user's state carries only that user's private parts
// (R17, private.go); pushes name their preference category (R19); closing
// announces the case (CaseResolved, R20); blank evidence, feelings, needs or
// addenda are refused before any judge call, by the rule the judge applies
// (Blank, R24); an addendum returns at once, its judge call being an effect
// (R23).
//
// The sanitised session carries two fields the original server does not
// send: "judgeType", the judge the creator chose (R18), and "version", the
// session version, which orders court:state deliveries (DESIGN.md
// "Delivery"). Clients ignore fields they do not know.
package court
