package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/appdata"
	"courtmesh/home/court"
	"courtmesh/home/judge"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

// BenchmarkWholeSession writes what a home writes for whole court sessions
// of the happy path (court-protocol.md §7.3) with the dev judge's LLM
// outputs: the create, the 13 transitions to CLOSED and the end of the
// CLOSED hold, with the app's usage table in place and both users in its
// profiles table, as in production (without them the usage count fails its
// foreign key and logs a warning, which a real count does not); "serial"
// one session after the other, "parallel" 5×GOMAXPROCS sessions at once
// (their commits share Postgres's WAL flushes). Besides the wall time it reports, per
// session, the CPU of the Postgres backends that ran the writes
// (/proc/<pid>/schedstat), the WAL written (pg_current_wal_lsn; the whole
// server's, so other users of a shared Postgres add to it) and the time
// spent in the store's calls.
func BenchmarkWholeSession(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run(map[bool]string{false: "serial", true: "parallel"}[parallel], func(b *testing.B) {
			st, pool := newStore(b)
			ctx := b.Context()
			_, err := appdata.StandIns(ctx, pool)
			require.NoError(b, err)
			dev, err := judge.NewDev(judge.DevConfig{})
			require.NoError(b, err)
			// The users' profiles are written on connections of their own,
			// whose backends are not counted.
			profiles, err := pgxpool.NewWithConfig(ctx, pool.Config())
			require.NoError(b, err)
			defer profiles.Close()
			var inStore atomic.Int64
			var sessions atomic.Int64
			run := func() error {
				d, err := wholeSession(ctx, st, dev, profiles)
				inStore.Add(int64(d))
				sessions.Add(1)
				return err
			}
			var g errgroup.Group
			for range 10 { // opens the connections, prepares the statements
				g.Go(run)
			}
			require.NoError(b, g.Wait())
			inStore.Store(0)
			sessions.Store(0)
			cpu0, wal0 := pgtest.BackendCPU(b, pool), walLSN(b, pool)
			if parallel {
				b.SetParallelism(5)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := run(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for b.Loop() {
					require.NoError(b, run())
				}
			}
			ns, wal1 := pgtest.CPUSince(b, pool, cpu0), walLSN(b, pool)
			var wal int64
			require.NoError(b, pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff($1, $2)::bigint`, wal1, wal0).Scan(&wal))
			n := float64(sessions.Load())
			b.ReportMetric(float64(ns)/1e6/n, "pg-cpu-ms/session")
			b.ReportMetric(float64(wal)/1024/n, "wal-KiB/session")
			b.ReportMetric(float64(inStore.Load())/1e6/n, "store-ms/session")
		})
	}
}

// wholeSession writes one whole session, its users' profiles first (on
// profiles), and returns the time spent in the store's calls.
func wholeSession(ctx context.Context, st *store.Store, dev judge.Judge, profiles *pgxpool.Pool) (time.Duration, error) {
	creator, partner := newID(), newID()
	if _, err := profiles.Exec(ctx, `INSERT INTO profiles (id) VALUES ($1), ($2)`, creator, partner); err != nil {
		return 0, err
	}
	s, err := court.NewSession(newID(), creator, partner, "", "", time.Now(), durations)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := st.Create(ctx, store.Create{Session: s, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve", Effects: s.TakeEffects()}); err != nil {
		return 0, err
	}
	spent := time.Since(start)
	for i, step := range happyPath(ctx, dev, creator, partner, newID()) {
		n := s.Clone()
		if err := step(n); err != nil {
			return spent, fmt.Errorf("step %d: %w", i, err)
		}
		start := time.Now()
		err := st.Commit(ctx, store.Commit{Prev: s.Version, Session: n, PrevSession: s, Epoch: 1,
			Node: "n1", Event: fmt.Sprintf("step%d", i), Effects: n.TakeEffects()})
		spent += time.Since(start)
		if err != nil {
			return spent, fmt.Errorf("step %d: %w", i, err)
		}
		s = n
	}
	if !s.Ended() {
		return spent, fmt.Errorf("the session did not end: %s", s.Phase)
	}
	return spent, nil
}

// happyPath returns the transitions of a session of creator and partner
// from PENDING to its end (court-protocol.md §7.3), with the dev judge's
// LLM outputs; the session closes as case caseID.
func happyPath(ctx context.Context, dev judge.Judge, creator, partner, caseID string) []func(*court.Session) error {
	return []func(*court.Session) error{
		func(s *court.Session) error { return s.Accept(partner, time.Now(), durations) },
		func(s *court.Session) error {
			return s.SubmitEvidence(partner, "They left the dishes again.", "I feel unseen.", "Fairness.", time.Now(), durations)
		},
		func(s *court.Session) error {
			return s.SubmitEvidence(creator, "I was working late all week.", "I feel judged.", "Rest.", time.Now(), durations)
		},
		func(s *court.Session) error {
			c := judge.Case{SessionID: s.ID, Version: s.DeliberationVersion, JudgeType: s.JudgeType, Language: s.CaseLanguage,
				Creator: judge.Party{UserID: creator, Evidence: *s.Creator.Evidence, Feelings: *s.Creator.Feelings, Needs: *s.Creator.Needs},
				Partner: judge.Party{UserID: partner, Evidence: *s.Partner.Evidence, Feelings: *s.Partner.Feelings, Needs: *s.Partner.Needs}}
			d, err := judge.Deliberate(ctx, dev, c)
			if err != nil {
				return err
			}
			return s.ApplyDeliberation(s.DeliberationVersion, d, time.Now(), durations)
		},
		func(s *court.Session) error { return s.MarkPrimingComplete(creator, time.Now(), durations) },
		func(s *court.Session) error { return s.MarkPrimingComplete(partner, time.Now(), durations) },
		func(s *court.Session) error { return s.MarkJointReady(partner, time.Now(), durations) },
		func(s *court.Session) error { return s.MarkJointReady(creator, time.Now(), durations) },
		func(s *court.Session) error {
			return s.SubmitResolutionPick(creator, "resolution_1", time.Now(), durations)
		},
		func(s *court.Session) error {
			return s.SubmitResolutionPick(partner, "resolution_1", time.Now(), durations)
		},
		func(s *court.Session) error { return s.AcceptVerdict(partner, "", time.Now(), durations) },
		func(s *court.Session) error { return s.AcceptVerdict(creator, caseID, time.Now(), durations) },
		func(s *court.Session) error { return s.Expire(time.Now().Add(time.Hour), "", durations) },
	}
}

// walLSN returns the server's current WAL position.
func walLSN(tb testing.TB, pool *pgxpool.Pool) string {
	var lsn string
	require.NoError(tb, pool.QueryRow(context.Background(), `SELECT pg_current_wal_lsn()::text`).Scan(&lsn))
	return lsn
}
