-- +goose Up
-- An outbox row that keeps failing is dead-lettered (dead_at) instead of
-- retried forever; with `--webhook none` rows are discarded (discarded_at),
-- never sent. Pending rows are those with none of the three times set.
ALTER TABLE court_outbox ADD COLUMN dead_at timestamptz;
ALTER TABLE court_outbox ADD COLUMN discarded_at timestamptz;
DROP INDEX court_outbox_pending_idx;
CREATE INDEX court_outbox_pending_idx ON court_outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL;
CREATE INDEX court_outbox_dead_idx ON court_outbox (dead_at) WHERE dead_at IS NOT NULL;
