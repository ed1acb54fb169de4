-- +goose Up
-- court_count_usage counts one case in the app's usage table, in the
-- transaction of the transition that starts it (appdata.Increment): the
-- app's increment_usage, or an upsert of usage_tracking where that function
-- is missing, or nothing where the table is missing ("Supabase not
-- configured"). Any failure becomes a WARNING and rolls back only the count
-- (the exception block is a subtransaction), never the transition. count is
-- {"user", "period", "type", "couple"}, as appdata.Increment writes it; it is
-- parsed inside the exception block, so a bad count is a warning too.
--
-- It replaces a DO block with the same body, which Postgres compiled and
-- planned at every run; a function's compilation and plans are cached per
-- connection (docs/performance.md, issue 11). The app's names resolve
-- through the caller's search_path, as the DO block's did.
-- +goose StatementBegin
CREATE FUNCTION court_count_usage(count json) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_user uuid;
    v_type text;
BEGIN
    IF to_regclass('usage_tracking') IS NULL THEN
        RETURN;
    END IF;
    v_user := (count->>'user')::uuid;
    v_type := count->>'type';
    BEGIN
        PERFORM increment_usage(v_user, (count->>'period')::date, v_type);
    EXCEPTION WHEN undefined_function THEN
        INSERT INTO usage_tracking AS u (user_id, couple_id, period_start, classic_count, swift_count, wise_count)
        VALUES (v_user, count->>'couple', (count->>'period')::date,
                (v_type = 'classic')::int, (v_type = 'swift')::int, (v_type = 'wise')::int)
        ON CONFLICT (user_id, period_start) DO UPDATE SET
            classic_count = u.classic_count + (v_type = 'classic')::int,
            swift_count   = u.swift_count + (v_type = 'swift')::int,
            wise_count    = u.wise_count + (v_type = 'wise')::int;
    END;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'courtmesh: usage not counted for %: %', count->>'user', SQLERRM;
END
$$;
-- +goose StatementEnd
