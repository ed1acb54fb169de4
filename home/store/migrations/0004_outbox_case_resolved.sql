-- +goose Up
-- A closed case is announced to the app's awards service (court-protocol.md
-- §6 R20): outbox rows of kind case_resolved.
ALTER TABLE court_outbox DROP CONSTRAINT court_outbox_kind_check;
ALTER TABLE court_outbox ADD CONSTRAINT court_outbox_kind_check
    CHECK (kind IN ('push', 'memory_job', 'case_resolved'));
