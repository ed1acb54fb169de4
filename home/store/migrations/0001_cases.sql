-- +goose Up
-- The app's case history (court-protocol.md §4.5), written only when a
-- session closes. User ids are text so the table needs no profiles table;
-- user_a/user_b follow the two ids sorted as strings.
CREATE TABLE cases (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_a_id        text NOT NULL,
    user_b_id        text NOT NULL,
    user_a_input     text,
    user_a_feelings  text DEFAULT '',
    user_a_needs     text DEFAULT '',
    user_b_input     text,
    user_b_feelings  text DEFAULT '',
    user_b_needs     text DEFAULT '',
    status           text DEFAULT 'DRAFT',
    case_language    text DEFAULT 'en',
    case_title       text,
    severity_level   text,
    primary_hiss_tag text,
    short_resolution text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_user_a_idx ON cases (user_a_id);
CREATE INDEX cases_user_b_idx ON cases (user_b_id);
CREATE INDEX cases_status_idx ON cases (status);

-- One row per verdict version of a case; addendum_by is 'userA'|'userB'
-- relative to the creator, ratings follow the sorted order of cases.
CREATE TABLE verdicts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id       uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    version       int NOT NULL,
    content       jsonb,
    addendum_by   text,
    addendum_text text,
    rating_user_a smallint CHECK (rating_user_a BETWEEN 1 AND 5),
    rating_user_b smallint CHECK (rating_user_b BETWEEN 1 AND 5),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, version)
);
