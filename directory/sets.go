package directory

import (
	"maps"
	"slices"
)

// sets is a map of string sets, the in-memory form of Redis sets keyed by
// name; an empty set is deleted, as Redis does.
type sets map[string]map[string]struct{}

// add adds member to the set name.
func (s sets) add(name, member string) {
	set := s[name]
	if set == nil {
		set = make(map[string]struct{})
		s[name] = set
	}
	set[member] = struct{}{}
}

// remove removes member from the set name.
func (s sets) remove(name, member string) {
	set := s[name]
	delete(set, member)
	if len(set) == 0 {
		delete(s, name)
	}
}

// has reports whether member is in the set name.
func (s sets) has(name, member string) bool {
	_, ok := s[name][member]
	return ok
}

// members returns the members of the set name, sorted.
func (s sets) members(name string) []string {
	return slices.Sorted(maps.Keys(s[name]))
}
