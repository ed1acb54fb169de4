-- Stand-in of the app's public.usage_tracking (court-protocol.md §4.6): one
-- row per user and monthly period; couple_id is "<smaller uuid>-<larger
-- uuid>". Created only when no usage_tracking table exists.
CREATE TABLE usage_tracking (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    couple_id     text,
    period_start  date NOT NULL,
    classic_count integer NOT NULL DEFAULT 0,
    swift_count   integer NOT NULL DEFAULT 0,
    wise_count    integer NOT NULL DEFAULT 0,
    plan_count    integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, period_start)
);
CREATE INDEX usage_tracking_couple ON usage_tracking (couple_id, period_start);
