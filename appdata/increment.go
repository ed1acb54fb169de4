package appdata

import (
	"fmt"
	"time"

	"courtmesh/protocol"
)

// UsageTypes are the judge types usage is counted for.
var usageTypes = map[string]bool{"classic": true, "swift": true, "wise": true}

// IncrementSQL is one statement that counts one case of judge type typ for
// userID (the creator) and partnerID in the period of at: it calls
// increment_usage, falls back to an atomic upsert of usage_tracking when the
// function is missing, and does nothing when the table is missing
// ("Supabase not configured"). A failure inside it is turned into a
// warning and rolls back only the count, so the statement can run inside
// the transaction that commits the transition: the count is then made
// exactly when the transition is, never twice. It takes no parameters
// (Postgres's DO cannot), so every value is checked and inlined: user ids
// must be UUIDs and typ one of classic, swift, wise.
func IncrementSQL(userID, partnerID, typ string, at time.Time) (string, error) {
	if !protocol.IsUUID(userID) || (partnerID != "" && !protocol.IsUUID(partnerID)) {
		return "", fmt.Errorf("appdata: increment usage of %q/%q: not a uuid", userID, partnerID)
	}
	if !usageTypes[typ] {
		return "", fmt.Errorf("appdata: increment usage: type %q", typ)
	}
	period := PeriodStart(at).Format(time.DateOnly)
	return fmt.Sprintf(`DO $courtmesh_usage$
BEGIN
    IF to_regclass('usage_tracking') IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        PERFORM increment_usage('%[1]s'::uuid, '%[2]s'::date, '%[3]s');
    EXCEPTION WHEN undefined_function THEN
        INSERT INTO usage_tracking AS u (user_id, couple_id, period_start, %[3]s_count)
        VALUES ('%[1]s'::uuid, '%[4]s', '%[2]s'::date, 1)
        ON CONFLICT (user_id, period_start) DO UPDATE SET %[3]s_count = u.%[3]s_count + 1;
    END;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'courtmesh: usage not counted for %%: %%', '%[1]s', SQLERRM;
END
$courtmesh_usage$`, userID, period, typ, CoupleKey(userID, partnerID)), nil
}
