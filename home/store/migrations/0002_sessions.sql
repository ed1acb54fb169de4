-- +goose Up
-- Live court sessions: the app's columns of court-protocol.md §4.4 (user_a =
-- the creator), plus what fencing needs. doc is the whole court.Session and
-- the only column read back; the app's columns are written for its readers.
CREATE TABLE court_sessions (
    id                     uuid PRIMARY KEY,
    status                 text NOT NULL,
    phase                  text NOT NULL,
    created_by             text NOT NULL,
    partner_id             text,
    -- couple_id holds the couple id only when it is a uuid (R22); couple_key
    -- always holds it.
    couple_id              uuid,
    couple_key             text,
    creator_joined         boolean NOT NULL DEFAULT true,
    partner_joined         boolean NOT NULL DEFAULT false,
    -- Deferred: a closing commit updates the session before it inserts the case.
    case_id                uuid REFERENCES cases (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    judge_type             text NOT NULL DEFAULT 'logical',
    creator_language       text NOT NULL DEFAULT 'en',
    partner_language       text NOT NULL DEFAULT 'en',
    case_language          text NOT NULL DEFAULT 'en',
    evidence_submissions   jsonb,
    user_a_evidence        text,
    user_a_feelings        text,
    user_a_needs           text,
    user_b_evidence        text,
    user_b_feelings        text,
    user_b_needs           text,
    settle_requests        jsonb,
    verdict_acceptances    jsonb,
    verdict                jsonb,
    resolved_at            timestamptz,
    addendum_history       jsonb,
    addendum_count         int NOT NULL DEFAULT 0,
    verdict_history        jsonb,
    analysis               jsonb,
    resolutions            jsonb,
    assessed_intensity     jsonb,
    priming_content        jsonb,
    joint_menu             jsonb,
    user_a_priming_ready   boolean NOT NULL DEFAULT false,
    user_b_priming_ready   boolean NOT NULL DEFAULT false,
    user_a_joint_ready     boolean NOT NULL DEFAULT false,
    user_b_joint_ready     boolean NOT NULL DEFAULT false,
    user_a_resolution_pick text,
    user_b_resolution_pick text,
    hybrid_resolution      jsonb,
    final_resolution       jsonb,
    created_at             timestamptz NOT NULL,
    expires_at             timestamptz NOT NULL,
    owner_epoch            bigint NOT NULL,
    version                bigint NOT NULL,
    home_region            text,
    doc                    jsonb NOT NULL,
    phase_deadline         timestamptz,
    settlement_deadline    timestamptz,
    ended_at               timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70); -- room on each page, so a fence (owner_epoch only) is a HOT update
CREATE INDEX court_sessions_phase_idx ON court_sessions (phase);
CREATE INDEX court_sessions_couple_key_idx ON court_sessions (couple_key);
CREATE INDEX court_sessions_created_by_status_idx ON court_sessions (created_by, status);
CREATE INDEX court_sessions_partner_status_idx ON court_sessions (partner_id, status);
CREATE INDEX court_sessions_live_idx ON court_sessions (home_region) WHERE ended_at IS NULL;

-- One live session per user: crossed serves race on this primary key.
CREATE TABLE court_session_users (
    user_id    text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES court_sessions (id) ON DELETE CASCADE
);
CREATE INDEX court_session_users_session_idx ON court_session_users (session_id);

-- One row per committed transition. No foreign key: the history outlives the
-- session row.
CREATE TABLE court_transitions (
    session_id  uuid NOT NULL,
    version     bigint NOT NULL,
    phase       text NOT NULL,
    owner_epoch bigint NOT NULL,
    node        text NOT NULL,
    event       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, version)
);

-- court_fence raises when a fenced write matched no row. A write is one
-- pipelined batch, one implicit transaction, whose first statement is
-- "WITH w AS (<fenced UPDATE or DELETE> RETURNING 1) SELECT court_fence(count(*)) FROM w":
-- a stale owner's batch stops there and nothing of it is written.
-- +goose StatementBegin
CREATE FUNCTION court_fence(matched bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF matched = 0 THEN
        RAISE EXCEPTION 'court: fenced: stale owner epoch or version' USING ERRCODE = 'CM001';
    END IF;
    RETURN matched;
END
$$;
-- +goose StatementEnd
