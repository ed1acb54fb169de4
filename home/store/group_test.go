package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/store"
)

// gatedDB holds the first batch sent through it until open is closed, so
// that the commits made meanwhile queue into one group, and records the
// size of every batch. With failGroups, every batch of more than one
// commit is sent with a cancelled context: its outcome is unknown to the
// store, and nothing of it is written. With serializationFailure, the
// first such batch ends with a statement that fails as a serialization
// failure does (SQLSTATE 40001), which no commit of it caused.
type gatedDB struct {
	store.DB
	open                 chan struct{}
	failGroups           bool
	serializationFailure bool

	mu    sync.Mutex
	sizes []int
}

func (g *gatedDB) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	g.mu.Lock()
	g.sizes = append(g.sizes, b.Len())
	first := len(g.sizes) == 1
	inject := g.serializationFailure && b.Len() > 2
	if inject {
		g.serializationFailure = false
	}
	g.mu.Unlock()
	if first {
		<-g.open
	}
	if g.failGroups && b.Len() > 2 {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		ctx = cancelled
	}
	if inject {
		b.Queue(`DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END $$`)
	}
	return g.DB.SendBatch(ctx, b)
}

func (g *gatedDB) batchSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.sizes...)
}

// groupRun is commits queued behind a held one, so that they are written
// as one group once it is let go.
type groupRun struct {
	t    *testing.T
	st   *store.Store
	db   *gatedDB
	wg   sync.WaitGroup
	errs []error
}

// newGroupRun returns a store that writes one group at a time over db, its
// first commit (of held, at epoch 1) already sent and held.
func newGroupRun(t *testing.T, db *gatedDB, held *court.Session) *groupRun {
	st, err := store.New(store.Config{DB: db, CommitGroups: 1})
	require.NoError(t, err)
	r := &groupRun{t: t, st: st, db: db}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := st.Commit(context.Background(), commit(next(held, nil), 1, "held"))
		r.errs = append(r.errs, err) // read by release, after the wait
	}()
	require.Eventually(t, func() bool { return len(db.batchSizes()) == 1 }, 5*time.Second, time.Millisecond)
	return r
}

// queue starts c and waits until it is queued; its outcome goes to *err.
func (r *groupRun) queue(ctx context.Context, c store.Commit, err *error) {
	queued := store.QueuedCommits(r.st)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		*err = r.st.Commit(ctx, c)
	}()
	require.Eventually(r.t, func() bool { return store.QueuedCommits(r.st) == queued+1 }, 5*time.Second, time.Millisecond)
}

// release lets the held commit go and waits for every commit's outcome.
func (r *groupRun) release() {
	close(r.db.open)
	r.wg.Wait()
	require.NoError(r.t, r.errs[0], "the held commit")
}

// version is the stored version of session id.
func version(t *testing.T, st *store.Store, id string) uint64 {
	t.Helper()
	s, err := st.Get(t.Context(), id)
	require.NoError(t, err)
	return s.Version
}

func TestGroupSettlesEachCommitByItsOwnFence(t *testing.T) {
	t.Parallel()
	plain, pool := newStore(t)
	held, b, c, d, e, f := create(t, plain, newUser("a"), newUser("a"), 1), create(t, plain, newUser("b"), newUser("b"), 1),
		create(t, plain, newUser("c"), newUser("c"), 1), create(t, plain, newUser("d"), newUser("d"), 1),
		create(t, plain, newUser("e"), newUser("e"), 1), create(t, plain, newUser("f"), newUser("f"), 1)
	notify := court.Notify{UserIDs: []string{"x"}, Type: "evidence_submitted"}
	r := newGroupRun(t, &gatedDB{DB: pool, open: make(chan struct{})}, held)

	var errB, errC, errD, errE, errB2, errF error
	b2 := next(b, nil)
	r.queue(t.Context(), commit(b2, 1, "b", notify), &errB)
	r.queue(t.Context(), commit(next(c, nil), 2, "stale epoch", notify), &errC)
	r.queue(t.Context(), commit(next(d, nil), 1, "d", notify), &errD)
	stale := commit(next(e, nil), 1, "stale version", notify)
	stale.Prev, stale.Session.Version = 5, 6
	r.queue(t.Context(), stale, &errE)
	r.queue(t.Context(), commit(next(b2, nil), 1, "b again", notify), &errB2)
	gone, giveUp := context.WithCancel(t.Context())
	r.queue(gone, commit(next(f, nil), 1, "given up", notify), &errF)
	giveUp()
	r.release()

	require.NoError(t, errB)
	require.ErrorIs(t, errC, store.ErrFenced)
	require.NoError(t, errD)
	require.ErrorIs(t, errE, store.ErrFenced)
	require.NoError(t, errB2, "the session's second commit, written after its first")
	require.ErrorIs(t, errF, context.Canceled)
	for id, want := range map[string]uint64{held.ID: 2, b.ID: 3, c.ID: 1, d.ID: 2, e.ID: 1, f.ID: 1} {
		require.Equal(t, want, version(t, plain, id), id)
	}
	for id, want := range map[string]int{b.ID: 3, c.ID: 1, d.ID: 2, e.ID: 1, f.ID: 1} {
		require.Equal(t, want, rowsOf(t, pool, "court_outbox", id), "outbox rows of %s", id)
	}
	// The held commit alone; the group of four first commits (two
	// statements each) refused at each fenced one in turn; then the second
	// commit of b, alone.
	require.Equal(t, []int{1, 8, 6, 4, 2}, r.db.batchSizes())
}

// twoBehindHeld creates three sessions and queues a commit of the second
// and third behind a held commit of the first, over db, then lets the held
// one go; it returns the two queued sessions and their commits' outcomes.
func twoBehindHeld(t *testing.T, plain *store.Store, db *gatedDB) (b, c *court.Session, errB, errC error) {
	held, b, c := create(t, plain, newUser("a"), newUser("a"), 1), create(t, plain, newUser("b"), newUser("b"), 1),
		create(t, plain, newUser("c"), newUser("c"), 1)
	notify := court.Notify{UserIDs: []string{"x"}, Type: "evidence_submitted"}
	r := newGroupRun(t, db, held)
	r.queue(t.Context(), commit(next(b, nil), 1, "b", notify), &errB)
	r.queue(t.Context(), commit(next(c, nil), 1, "c", notify), &errC)
	r.release()
	return b, c, errB, errC
}

func TestGroupOfUnknownOutcomeFailsEveryCommit(t *testing.T) {
	t.Parallel()
	plain, pool := newStore(t)
	db := &gatedDB{DB: pool, open: make(chan struct{}), failGroups: true}
	b, c, errB, errC := twoBehindHeld(t, plain, db)

	for _, err := range []error{errB, errC} {
		require.Error(t, err)
		require.False(t, errors.Is(err, store.ErrFenced), "an unknown outcome is not a refusal: %v", err)
	}
	require.Equal(t, uint64(1), version(t, plain, b.ID))
	require.Equal(t, uint64(1), version(t, plain, c.ID))
	require.Equal(t, []int{1, 4}, db.batchSizes(), "no commit of the group is written again on its own")
}

func TestGroupRolledBackByNoCommitWritesEachAlone(t *testing.T) {
	t.Parallel()
	plain, pool := newStore(t)
	db := &gatedDB{DB: pool, open: make(chan struct{}), serializationFailure: true}
	b, c, errB, errC := twoBehindHeld(t, plain, db)

	require.NoError(t, errB, "the failure was the group's, not b's")
	require.NoError(t, errC, "the failure was the group's, not c's")
	require.Equal(t, uint64(2), version(t, plain, b.ID))
	require.Equal(t, uint64(2), version(t, plain, c.ID))
	require.Equal(t, 2, rowsOf(t, pool, "court_outbox", b.ID), "the serve's row and one of the commit's: written once")
	require.Equal(t, []int{1, 4, 2, 2}, db.batchSizes(), "the group (the injected statement not counted), then each commit alone")
}
