package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"courtmesh/home/court"
	"courtmesh/protocol"
)

// SessionEpoch is one session to fence at a new epoch.
type SessionEpoch struct {
	ID    string
	Epoch uint64
}

// Fence makes epoch the session's owner epoch, so the store refuses every
// write with an older one from now on, and returns the session as last
// committed. It returns ErrFenced if the row's epoch is already epoch or
// newer, and ErrNotFound if the session is gone or has ended.
func (s *Store) Fence(ctx context.Context, sessionID string, epoch uint64) (*court.Session, error) {
	if !protocol.IsUUID(sessionID) {
		return nil, ErrNotFound
	}
	var row storedRow
	err := s.db.QueryRow(ctx, `UPDATE court_sessions SET owner_epoch = $2
		WHERE id = $1 AND owner_epoch < $2 AND ended_at IS NULL RETURNING `+readCols,
		sessionID, int64(epoch)).Scan(row.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.whyNotFenced(ctx, sessionID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: fence session %s: %w", sessionID, err)
	}
	return row.session()
}

// whyNotFenced tells ErrFenced from ErrNotFound after a fence matched no row.
func (s *Store) whyNotFenced(ctx context.Context, sessionID string) error {
	var ended bool
	err := s.db.QueryRow(ctx, `SELECT ended_at IS NOT NULL FROM court_sessions WHERE id = $1`, sessionID).Scan(&ended)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && ended:
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("store: fence session %s: %w", sessionID, err)
	}
	return ErrFenced
}

// fenceManySQL fences a batch in one statement. The rows are locked in id
// order, so two nodes fencing overlapping batches cannot deadlock, and the
// epoch is checked again once the lock is held.
const fenceManySQL = `WITH want AS (
		SELECT * FROM unnest($1::text[], $2::bigint[]) AS w(id, epoch)
	), locked AS (
		SELECT c.id, w.epoch FROM court_sessions c JOIN want w ON c.id = w.id::uuid
		WHERE c.owner_epoch < w.epoch AND c.ended_at IS NULL
		ORDER BY c.id
		FOR UPDATE OF c
	)
	UPDATE court_sessions c SET owner_epoch = l.epoch FROM locked l
	WHERE c.id = l.id AND c.owner_epoch < l.epoch
	RETURNING c.id::text, ` + readCols

// FenceMany fences many sessions in one statement, for a failover. It
// returns the sessions it fenced, by id; a session missing from the map was
// not fenced: it is gone, ended, already at that epoch or newer, or its id is
// not a uuid. A session listed twice is fenced at the larger epoch.
func (s *Store) FenceMany(ctx context.Context, want []SessionEpoch) (map[string]*court.Session, error) {
	epochs := make(map[string]int64, len(want))
	for _, w := range want {
		if protocol.IsUUID(w.ID) && int64(w.Epoch) > epochs[w.ID] {
			epochs[w.ID] = int64(w.Epoch)
		}
	}
	ids := make([]string, 0, len(epochs))
	eps := make([]int64, 0, len(epochs))
	for id, e := range epochs {
		ids, eps = append(ids, id), append(eps, e)
	}
	if len(ids) == 0 {
		return map[string]*court.Session{}, nil
	}
	rows, err := s.db.Query(ctx, fenceManySQL, ids, eps)
	if err != nil {
		return nil, fmt.Errorf("store: fence %d sessions: %w", len(ids), err)
	}
	out := make(map[string]*court.Session, len(ids))
	for rows.Next() {
		var id string
		var row storedRow
		if err := rows.Scan(append([]any{&id}, row.dest()...)...); err != nil {
			return nil, fmt.Errorf("store: fence sessions: scan: %w", err)
		}
		sess, err := row.session()
		if err != nil {
			return nil, err
		}
		out[id] = sess
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: fence %d sessions: %w", len(ids), err)
	}
	return out, nil
}
