package store

import (
	"errors"

	"courtmesh/home/court"
)

// WithProvider runs goose over a test file system.
var WithProvider = withProvider

// DocOf is docOf: the session the doc column holds.
var DocOf = docOf

// DocColumn returns the doc column's value that a write of s sends.
func DocColumn(s *court.Session) ([]byte, error) {
	cols, err := sessionCols(s, rowState{})
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		if c.name == "doc" {
			return c.value.([]byte), nil
		}
	}
	return nil, errors.New("no doc column")
}
