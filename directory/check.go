package directory

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// errInvalid marks a call with arguments no store could accept.
var errInvalid = errors.New("directory: invalid argument")

// checkCreate validates the arguments of CreateSession.
func checkCreate(r Route, creatorID, partnerID string) error {
	switch {
	case r.SessionID == "":
		return fmt.Errorf("%w: empty session id", errInvalid)
	case creatorID == "" || partnerID == "":
		return fmt.Errorf("%w: empty user id", errInvalid)
	}
	return nil
}

// checkPresence validates the arguments of AddPresence.
func checkPresence(edgeNode string, ttl time.Duration) error {
	switch {
	case edgeNode == "":
		return fmt.Errorf("%w: empty edge node", errInvalid)
	case ttl < time.Millisecond:
		return fmt.Errorf("%w: presence ttl %v below 1ms", errInvalid, ttl)
	}
	return nil
}

// sortedEdges returns the edges of live, sorted.
func sortedEdges(live map[string]time.Time, now time.Time) []string {
	edges := make([]string, 0, len(live))
	for edge, expiry := range live {
		if expiry.After(now) {
			edges = append(edges, edge)
		}
	}
	slices.Sort(edges)
	return edges
}
