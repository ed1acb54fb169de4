package court

import (
	"testing"
	"time"
)

// The encoder's slices are sized for the fields session writes: a field
// added to the session without sessionFields following makes every version
// grow them again.
func TestSessionFieldsIsTheCount(t *testing.T) {
	s, err := NewSession("s", "alice", "bob", "", "", time.UnixMilli(0), DurationsFromScale(1))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewStateEncoder(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc.fields) != sessionFields {
		t.Fatalf("session writes %d fields, sessionFields is %d", len(enc.fields), sessionFields)
	}
}
