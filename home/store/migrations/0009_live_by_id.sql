-- +goose NO TRANSACTION
-- +goose Up
-- The live-session index is keyed by id. Keyed by home_region (0002), it
-- was a trap for every fenced write (`WHERE id = $1 … AND ended_at IS
-- NULL`): its predicate matches theirs, so a plan made while the table was
-- empty and never analyzed (a home's first statements on a fresh schema;
-- cached by each connection until an ANALYZE invalidates it, which never
-- comes where autovacuum is off) walked every live session's entry to find
-- one row. Keyed by id, any plan using it is a point lookup, and it still
-- lists the live sessions in id order (Store.ActiveSessions). Built and dropped
-- concurrently: commits go on meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS court_sessions_live_id_idx ON court_sessions (id) WHERE ended_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS court_sessions_live_idx;
