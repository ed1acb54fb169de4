-- +goose Up
-- The retention job (retention.go) deletes old history and delivered outbox
-- rows. Both are written in time order, so a BRIN index finds the old pages
-- for a few kilobytes, where a btree would grow with the tables.
CREATE INDEX court_transitions_at_brin ON court_transitions USING brin (at);
CREATE INDEX court_outbox_created_at_brin ON court_outbox USING brin (created_at);
