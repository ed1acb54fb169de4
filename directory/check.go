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
	case r.OwnerInc != "" && r.OwnerNode == "":
		return fmt.Errorf("%w: owner incarnation without owner node", errInvalid)
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

// checkHeartbeat validates the arguments of Heartbeat.
func checkHeartbeat(node, region, incarnation string, ttl time.Duration) error {
	switch {
	case node == "" || region == "" || incarnation == "":
		return fmt.Errorf("%w: empty node, region or incarnation", errInvalid)
	case ttl < time.Millisecond:
		return fmt.Errorf("%w: lease ttl %v below 1ms", errInvalid, ttl)
	}
	return nil
}

// checkHolder validates the node and incarnation of Acquire and Release.
func checkHolder(node, incarnation string) error {
	if node == "" || incarnation == "" {
		return fmt.Errorf("%w: empty node or incarnation", errInvalid)
	}
	return nil
}

// checkAllow validates the arguments of Allow.
func checkAllow(userID, event string, limit int, window time.Duration) error {
	switch {
	case userID == "" || event == "":
		return fmt.Errorf("%w: empty user or event", errInvalid)
	case limit < 1:
		return fmt.Errorf("%w: limit %d below 1", errInvalid, limit)
	case window < time.Millisecond:
		return fmt.Errorf("%w: window %v below 1ms", errInvalid, window)
	}
	return nil
}
