package store

import (
	"errors"

	"courtmesh/home/court"
)

// WithProvider runs goose over a test file system.
var WithProvider = withProvider

// DocOf is docOf: the session the doc column holds.
var DocOf = docOf

// Column returns the value of the column name that a write of s sends,
// which is JSON text.
func Column(s *court.Session, name string) ([]byte, error) {
	cols, err := sessionCols(s, rowState{})
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		if c.name == name {
			return c.value.([]byte), nil
		}
	}
	return nil, errors.New("no column " + name)
}

// QueuedCommits is how many commits wait for a group to be written.
func QueuedCommits(s *Store) int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return len(s.commits.queued)
}
