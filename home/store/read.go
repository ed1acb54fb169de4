package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"courtmesh/home/court"
	"courtmesh/protocol"
)

// ActiveRef is a live session as the directory needs it.
type ActiveRef struct {
	ID string
	// Users are the creator and the partner.
	Users      [2]string
	OwnerEpoch uint64
}

// TransitionRow is one committed transition.
type TransitionRow struct {
	SessionID  string
	Version    uint64
	Phase      court.Phase
	OwnerEpoch uint64
	Node       string
	Event      string
	At         time.Time
}

// Get returns the session as last committed, or ErrNotFound if it is gone.
// An ended session whose row is kept (CLOSED) is returned with Phase IDLE.
func (s *Store) Get(ctx context.Context, id string) (*court.Session, error) {
	if !protocol.IsUUID(id) {
		return nil, ErrNotFound
	}
	var row storedRow
	err := s.db.QueryRow(ctx, `SELECT `+readCols+` FROM court_sessions WHERE id = $1`, id).Scan(row.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get session %s: %w", id, err)
	}
	return row.session()
}

// ActiveSessions lists the sessions that have not ended whose home region is
// region (every region when region is empty), to rebuild the directory after
// a Redis loss. CLOSED sessions still in their hold are live and listed.
func (s *Store) ActiveSessions(ctx context.Context, region string) ([]ActiveRef, error) {
	rows, err := s.db.Query(ctx, `SELECT id::text, created_by, coalesce(partner_id, ''), owner_epoch
		FROM court_sessions WHERE ended_at IS NULL AND ($1 = '' OR home_region = $1) ORDER BY id`, region)
	if err != nil {
		return nil, fmt.Errorf("store: active sessions: %w", err)
	}
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActiveRef, error) {
		var a ActiveRef
		var epoch int64
		err := r.Scan(&a.ID, &a.Users[0], &a.Users[1], &epoch)
		a.OwnerEpoch = uint64(epoch)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: active sessions: %w", err)
	}
	return refs, nil
}

// Transitions returns a session's committed transitions in version order.
// The history outlives the session's row.
func (s *Store) Transitions(ctx context.Context, sessionID string) ([]TransitionRow, error) {
	if !protocol.IsUUID(sessionID) {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT session_id::text, version, phase, owner_epoch, node, event, at
		FROM court_transitions WHERE session_id = $1 ORDER BY version`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: transitions of %s: %w", sessionID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TransitionRow, error) {
		var t TransitionRow
		var version, epoch int64
		err := r.Scan(&t.SessionID, &version, &t.Phase, &epoch, &t.Node, &t.Event, &t.At)
		t.Version, t.OwnerEpoch = uint64(version), uint64(epoch)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: transitions of %s: %w", sessionID, err)
	}
	return out, nil
}
