-- Stand-in of the app's increment_usage: atomically adds one to the user's
-- count of p_type (classic, swift, wise or plan) in the period, creating the
-- row, with the couple id of the user's current partner.
CREATE FUNCTION increment_usage(p_user_id uuid, p_period_start date, p_type text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_partner uuid;
    v_couple  text;
BEGIN
    IF p_type NOT IN ('classic', 'swift', 'wise', 'plan') THEN
        RAISE EXCEPTION 'invalid usage type %', p_type;
    END IF;
    SELECT partner_id INTO v_partner FROM profiles WHERE id = p_user_id;
    v_couple := CASE
        WHEN v_partner IS NULL THEN p_user_id::text
        WHEN p_user_id::text < v_partner::text THEN p_user_id::text || '-' || v_partner::text
        ELSE v_partner::text || '-' || p_user_id::text END;
    INSERT INTO usage_tracking AS u (user_id, couple_id, period_start,
            classic_count, swift_count, wise_count, plan_count)
    VALUES (p_user_id, v_couple, p_period_start,
            (p_type = 'classic')::int, (p_type = 'swift')::int, (p_type = 'wise')::int, (p_type = 'plan')::int)
    ON CONFLICT (user_id, period_start) DO UPDATE SET
        classic_count = u.classic_count + (p_type = 'classic')::int,
        swift_count   = u.swift_count + (p_type = 'swift')::int,
        wise_count    = u.wise_count + (p_type = 'wise')::int,
        plan_count    = u.plan_count + (p_type = 'plan')::int,
        couple_id     = v_couple,
        updated_at    = now();
END
$$;
