package appdata

import (
	"encoding/json"
	"fmt"
	"time"

	"courtmesh/protocol"
)

// UsageTypes are the judge types usage is counted for.
var usageTypes = map[string]bool{"classic": true, "swift": true, "wise": true}

// Statement is one SQL statement and its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// The two statements of a usage count. Their texts are constant, so a
// driver that prepares and caches statements (pgx does, per connection)
// prepares them once, not once per count. A DO block takes no parameters:
// the first statement hands the count to the second in a setting local to
// the transaction.
const (
	incrementSetSQL = `SELECT set_config('courtmesh.usage_count', $1, true)`
	incrementSQL    = `DO $courtmesh_usage$
DECLARE
    c      json;
    v_user uuid;
    v_type text;
BEGIN
    IF to_regclass('usage_tracking') IS NULL THEN
        RETURN;
    END IF;
    c := current_setting('courtmesh.usage_count')::json;
    v_user := (c->>'user')::uuid;
    v_type := c->>'type';
    BEGIN
        PERFORM increment_usage(v_user, (c->>'period')::date, v_type);
    EXCEPTION WHEN undefined_function THEN
        INSERT INTO usage_tracking AS u (user_id, couple_id, period_start, classic_count, swift_count, wise_count)
        VALUES (v_user, c->>'couple', (c->>'period')::date,
                (v_type = 'classic')::int, (v_type = 'swift')::int, (v_type = 'wise')::int)
        ON CONFLICT (user_id, period_start) DO UPDATE SET
            classic_count = u.classic_count + (v_type = 'classic')::int,
            swift_count   = u.swift_count + (v_type = 'swift')::int,
            wise_count    = u.wise_count + (v_type = 'wise')::int;
    END;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'courtmesh: usage not counted for %: %', c->>'user', SQLERRM;
END
$courtmesh_usage$`
)

// Increment returns the statements, to run in this order in one
// transaction, that count one case of judge type typ for userID (the
// creator) and partnerID in the period of at: they call increment_usage,
// fall back to an atomic upsert of usage_tracking when the function is
// missing, and do nothing when the table is missing ("Supabase not
// configured"). A failure inside them is turned into a warning and rolls
// back only the count, so they can run inside the transaction that commits
// the transition: the count is then made exactly when the transition is,
// never twice. User ids must be UUIDs and typ one of classic, swift, wise.
func Increment(userID, partnerID, typ string, at time.Time) ([]Statement, error) {
	if !protocol.IsUUID(userID) || (partnerID != "" && !protocol.IsUUID(partnerID)) {
		return nil, fmt.Errorf("appdata: increment usage of %q/%q: not a uuid", userID, partnerID)
	}
	if !usageTypes[typ] {
		return nil, fmt.Errorf("appdata: increment usage: type %q", typ)
	}
	count, err := json.Marshal(map[string]string{"user": userID, "period": PeriodStart(at).Format(time.DateOnly),
		"type": typ, "couple": CoupleKey(userID, partnerID)})
	if err != nil {
		return nil, fmt.Errorf("appdata: increment usage: %w", err)
	}
	return []Statement{{incrementSetSQL, []any{string(count)}}, {incrementSQL, nil}}, nil
}
