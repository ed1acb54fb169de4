package directory

import (
	"context"
	"slices"
	"strings"
	"time"
)

// memberRecord is an announcement and when it lapses.
type memberRecord struct {
	m      Member
	expiry time.Time
}

// Announce implements Membership.
func (m *Memory) Announce(_ context.Context, mem Member, ttl time.Duration) error {
	if err := checkMember(mem, ttl); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members[mem.ID] = memberRecord{m: mem, expiry: time.Now().Add(ttl)}
	return nil
}

// Withdraw implements Membership.
func (m *Memory) Withdraw(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.members, id)
	return nil
}

// Members implements Membership.
func (m *Memory) Members(context.Context) ([]Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	out := make([]Member, 0, len(m.members))
	for id, rec := range m.members {
		if !now.Before(rec.expiry) {
			delete(m.members, id)
			continue
		}
		out = append(out, rec.m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
