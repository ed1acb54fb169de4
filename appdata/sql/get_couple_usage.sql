-- Stand-in of the app's get_couple_usage: the couple's counts in a period,
-- summed over the user's rows and their partner's.
CREATE FUNCTION get_couple_usage(p_user_id uuid, p_period_start date)
RETURNS TABLE (classic_count bigint, swift_count bigint, wise_count bigint, plan_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(u.classic_count), 0), coalesce(sum(u.swift_count), 0),
           coalesce(sum(u.wise_count), 0), coalesce(sum(u.plan_count), 0)
    FROM usage_tracking u
    WHERE u.period_start = p_period_start
      AND (u.user_id = p_user_id
           OR u.user_id = (SELECT p.partner_id FROM profiles p WHERE p.id = p_user_id))
$$;
