-- +goose Up
-- Side effects committed with the transition that caused them, delivered
-- later by package outbox.
CREATE TABLE court_outbox (
    id              bigserial PRIMARY KEY,
    session_id      uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('push', 'memory_job')),
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text
);
CREATE INDEX court_outbox_pending_idx ON court_outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
