// Package store is the Postgres half of session ownership (docs/ownership.md):
// the app's court_sessions, cases and verdicts tables (court-protocol.md §4.4,
// §4.5), plus the fencing columns (owner_epoch, version), the
// one-live-session-per-user table court_session_users, the transition history
// court_transitions and the outbox court_outbox.
//
// Every write is one pipelined batch, which Postgres runs as one implicit
// transaction and which costs one round trip. A commit's first statement is
// the fence, which also writes the transition's history row:
//
//	WITH w AS (UPDATE court_sessions SET ... WHERE id = $id
//	    AND owner_epoch = $epoch AND version = $prev AND ended_at IS NULL RETURNING 1),
//	  h AS (INSERT INTO court_transitions ... SELECT ... FROM w)
//	SELECT court_fence(count(*)) FROM w
//
// court_fence raises when no row matched (a newer owner fenced the session,
// another commit from the same version won, or the session ended), which
// aborts the rest of the batch and rolls it back: the write returns
// ErrFenced and nothing of it is written. The SQL refuses, not a check in Go,
// so a paused owner, a duplicate timer or two commits racing from one version
// change nothing twice. The case and verdict rows, the outbox rows (one
// statement for all of them) and the usage counts of a transition follow in
// the same batch; a usage count is a call of court_count_usage (migration
// 0008), which makes a failed count a warning that rolls back only the
// count. Every statement text is constant (a usage count's values are
// arguments too), so pgx prepares each once per connection.
//
// Commits of different sessions are written in groups (group.go): the
// commits that arrive while every write slot is busy go together in the
// next, as one transaction, one round trip and one WAL flush, each still
// behind its own fence. A fence that refuses rolls the group back; the
// refused commit gets ErrFenced, and the others are written again without
// it. A commit is acknowledged only once the transaction that holds it has
// committed; a commit that finds a free slot (Config.CommitGroups) is
// written at once, alone.
//
// A session is read back from the doc column (the court.Session as JSON,
// without its LLM outputs and verdicts) and the columns that hold those big
// values (split.go); the app's other columns are kept in step for the app's
// own readers. A commit given the previous session writes a big column only
// when its value changed; the big values are compressed with lz4 (migration
// 0007).
//
// A Pruner deletes the history of ended sessions and the delivered outbox
// rows once they are older than the retention (retention.go), in small
// SKIP LOCKED batches that every home can run at once.
//
// Migrate applies the embedded migrations with goose (carrying over a schema
// migrated before goose) and MigrationStatus lists them; package pgtest
// gives tests a fresh, migrated schema on the real Postgres.
package store
