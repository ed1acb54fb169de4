-- Stand-in of the app's public.profiles (the columns courtmesh reads;
-- court-protocol.md §2.5, §4.6). Created only when no profiles table exists.
CREATE TABLE profiles (
    id                      uuid PRIMARY KEY,
    display_name            text,
    partner_id              uuid REFERENCES profiles (id) ON DELETE SET NULL,
    ai_insights_consent     boolean NOT NULL DEFAULT false,
    subscription_tier       text NOT NULL DEFAULT 'free',
    subscription_expires_at timestamptz,
    preferred_language      text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
