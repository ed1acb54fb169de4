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

// incrementSQL counts one case. court_count_usage, created by the store's
// migration 0008, holds the count's logic (the app's increment_usage, the
// upsert fallback, the warning). The text is constant and the count is its
// argument, so a driver that prepares and caches statements (pgx does, per
// connection) prepares it once, and Postgres caches the function's compiled
// body and plans per connection.
const incrementSQL = `SELECT court_count_usage($1)`

// Increment returns the statement that counts one case of judge type typ
// for userID (the creator) and partnerID in the period of at, to run in a
// transaction on a schema the store has migrated: it calls the app's
// increment_usage, falls back to an atomic upsert of usage_tracking when the
// function is missing, and does nothing when the table is missing
// ("Supabase not configured"). A failure inside it is turned into a warning
// and rolls back only the count, so it can run inside the transaction that
// commits the transition: the count is then made exactly when the
// transition is, never twice. User ids must be UUIDs and typ one of
// classic, swift, wise.
func Increment(userID, partnerID, typ string, at time.Time) (Statement, error) {
	if !protocol.IsUUID(userID) || (partnerID != "" && !protocol.IsUUID(partnerID)) {
		return Statement{}, fmt.Errorf("appdata: increment usage of %q/%q: not a uuid", userID, partnerID)
	}
	if !usageTypes[typ] {
		return Statement{}, fmt.Errorf("appdata: increment usage: type %q", typ)
	}
	count, err := json.Marshal(map[string]string{"user": userID, "period": PeriodStart(at).Format(time.DateOnly),
		"type": typ, "couple": CoupleKey(userID, partnerID)})
	if err != nil {
		return Statement{}, fmt.Errorf("appdata: increment usage: %w", err)
	}
	return Statement{incrementSQL, []any{string(count)}}, nil
}
