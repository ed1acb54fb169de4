package directory_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// TestRedisReplicaReads: with a Replica, cached lookups come from the
// replica (they see what it has, stale while replication is stopped, and
// catch up once it resumes), fresh lookups and writes from the primary.
func TestRedisReplicaReads(t *testing.T) {
	t.Parallel()
	rep, d, obs := replicaWithSession(t)
	ctx := t.Context()
	_, err := d.Lookup(ctx, "c", false)
	require.ErrorIs(t, err, directory.ErrNotFound) // now cached
	require.NoError(t, d.CreateSession(ctx, directory.Route{SessionID: "s2", HomeRegion: "us", OwnerNode: "home-1", OwnerInc: "i1"}, "c", "e"))
	checkFor(t, settle, func() error { _, err := d.Lookup(ctx, "c", false); return err }) // the replica invalidates what it replicates

	rep.Detach(t)
	require.NoError(t, d.EndSession(ctx, "s1", "a", "b"))
	_, err = d.Lookup(ctx, "a", true)
	require.ErrorIs(t, err, directory.ErrNotFound, "a fresh read is the primary's")
	stale, err := d.Lookup(ctx, "a", false)
	require.NoError(t, err, "a cached read is the replica's, stale while it is detached")
	require.Equal(t, "home-1", stale.OwnerNode)

	rep.Attach(t)
	checkFor(t, settle, func() error {
		if _, err := d.Lookup(ctx, "a", false); err != directory.ErrNotFound {
			return err
		}
		return nil
	})
	require.Empty(t, obs.logs.all(), "a replica that lags is not down")
	require.Zero(t, obs.metric(t, "court_directory_replica_down"))
	require.Zero(t, obs.metric(t, "court_directory_replica_fallback_reads_total"))
}

// TestReplicaDownReadsThePrimary: when the region's replica dies, cached
// reads go to the primary instead of failing, and answer what the primary
// holds; after one failed attempt the replica is left alone for a while, so
// an outage does not cost every read a failed try.
func TestReplicaDownReadsThePrimary(t *testing.T) {
	t.Parallel()
	rep, d, obs := replicaWithSession(t)
	ctx := t.Context()
	rep.Kill(t)
	got, err := d.Lookup(ctx, "a", false)
	require.NoError(t, err, "a dead replica's region reads the primary")
	require.Equal(t, "home-1", got.OwnerNode)
	require.NoError(t, d.EndSession(ctx, "s1", "a", "b"))
	// The primary's cached copy is invalidated by a push that can trail
	// the write's reply, so the primary's new answer is awaited.
	checkFor(t, settle, func() error {
		if _, err := d.Lookup(ctx, "a", false); err != directory.ErrNotFound {
			return fmt.Errorf("the answer is not the primary's: %v", err)
		}
		return nil
	})
	require.EqualValues(t, 1, d.ReplicaFailuresForTest(), "after one failure the replica is not asked again at once")
	require.Equal(t, 1.0, obs.metric(t, "court_directory_replica_down"))
	before := obs.metric(t, "court_directory_replica_fallback_reads_total")
	_, err = d.Presence(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, before+1, obs.metric(t, "court_directory_replica_fallback_reads_total"), "a read skipping the replica is counted")
	logs := obs.logs.all()
	require.Len(t, logs, 1, "one outage, one line: %v", logs)
	require.Equal(t, slog.LevelWarn, logs[0].level)
	require.NotEmpty(t, logs[0].err, "the warning says why")
}

// TestReplicaHungReadsThePrimary: a replica whose host hangs (its
// connections stay open, nothing answers) makes a cached read wait a
// moment, not until the read's context ends: the read goes to the primary,
// later reads skip the replica without waiting, and once it answers again
// reads go back to it, found by a probe off the read path.
func TestReplicaHungReadsThePrimary(t *testing.T) {
	t.Parallel()
	rep, d, obs := replicaWithSession(t)
	d.SetReplicaRetryForTest(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	rep.Freeze(t)
	start := time.Now()
	got, err := d.Lookup(ctx, "b", false) // not cached: the replica is asked
	require.NoError(t, err, "a hung replica's region reads the primary")
	require.Equal(t, "home-1", got.OwnerNode)
	require.Less(t, time.Since(start), 2*time.Second, "the read waited for the hung replica")
	require.Equal(t, 1.0, obs.metric(t, "court_directory_replica_down"))

	// While it hangs, reads skip it, even after the retry interval: the
	// replica is probed off the read path.
	for i := range 5 {
		time.Sleep(60 * time.Millisecond)
		start := time.Now()
		_, err := d.Presence(ctx, fmt.Sprintf("nobody-%d", i))
		require.NoError(t, err)
		require.Less(t, time.Since(start), time.Second, "a read after the retry interval waited for the hung replica")
	}
	require.Equal(t, 1.0, obs.metric(t, "court_directory_replica_down"))

	rep.Thaw(t)
	checkFor(t, settle, func() error {
		if _, err := d.Presence(ctx, "nobody"); err != nil { // a read finds a probe due
			return err
		}
		if v := obs.metric(t, "court_directory_replica_down"); v != 0 {
			return errors.New("the replica answers again but reads still skip it")
		}
		return nil
	})
	require.Equal(t, []slog.Level{slog.LevelWarn, slog.LevelInfo}, obs.logs.levels(), "one outage, two lines")
}

// TestReplicaDownAtStart: a node whose replica does not answer yet starts
// anyway, reads the primary meanwhile, and reads the replica once it
// answers; a replica URL that does not parse is still refused.
func TestReplicaDownAtStart(t *testing.T) {
	t.Parallel()
	_, err := directory.DialReplica("http://127.0.0.1:6379", 1<<20)
	require.ErrorContains(t, err, "parse redis url", "a malformed REDIS_REPLICA_URL is an operator's mistake")

	rep := redistest.NewReplica(t, "")
	rc, err := directory.DialReplica(rep.URL, 1<<20)
	require.NoError(t, err, "a replica that does not answer yet is no reason not to start")
	t.Cleanup(rc.Close)
	obs := newReplicaObserver()
	d, err := directory.NewRedis(directory.RedisConfig{Client: redistest.Client(t), Replica: rc, Prefix: redistest.Prefix(t),
		Logger: obs.logger(), Registerer: obs.reg})
	require.NoError(t, err)
	d.SetReplicaRetryForTest(20 * time.Millisecond)
	ctx := t.Context()
	require.NoError(t, d.CreateSession(ctx, directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-1", OwnerInc: "i1"}, "a", "b"))
	require.NoError(t, d.CreateSession(ctx, directory.Route{SessionID: "s2", HomeRegion: "us", OwnerNode: "home-2", OwnerInc: "i1"}, "c", "e"))
	got, err := d.Lookup(ctx, "a", false)
	require.NoError(t, err, "the primary answers while the replica does not")
	require.Equal(t, "home-1", got.OwnerNode)
	// The replica is tried again every 20 ms and fails again: still one
	// outage, logged once.
	checkFor(t, settle, func() error {
		if _, err := d.Lookup(ctx, "a", false); err != nil {
			return err
		}
		if n := d.ReplicaFailuresForTest(); n < 3 {
			return fmt.Errorf("%d failed replica reads, want 3", n)
		}
		return nil
	})
	require.Equal(t, []slog.Level{slog.LevelWarn}, obs.logs.levels())
	require.Equal(t, 1.0, obs.metric(t, "court_directory_replica_down"))

	// Once the replica is up, only it can still show s2: it stops
	// replicating before s2 ends on the primary, and the primary's
	// cache never held c.
	rep.Start(t)
	rep.Detach(t)
	require.NoError(t, d.EndSession(ctx, "s2", "c", "e"))
	checkFor(t, settle, func() error {
		r, err := d.Lookup(ctx, "c", false)
		if err != nil {
			return fmt.Errorf("the answer is not the replica's: %w", err)
		}
		if r.OwnerNode != "home-2" {
			return fmt.Errorf("owner %q, want home-2", r.OwnerNode)
		}
		return nil
	})
	require.Equal(t, []slog.Level{slog.LevelWarn, slog.LevelInfo}, obs.logs.levels(), "the replica answers again: logged once")
	require.Equal(t, 0.0, obs.metric(t, "court_directory_replica_down"))
	fallbacks := obs.metric(t, "court_directory_replica_fallback_reads_total")
	require.GreaterOrEqual(t, fallbacks, float64(d.ReplicaFailuresForTest()), "each failed read was the primary's")

	rep.Kill(t)
	_, err = d.Lookup(ctx, "a", false)
	require.NoError(t, err)
	require.Equal(t, []slog.Level{slog.LevelWarn, slog.LevelInfo, slog.LevelWarn}, obs.logs.levels(), "a second outage is logged again")
	require.Equal(t, 1.0, obs.metric(t, "court_directory_replica_down"))
	require.Greater(t, obs.metric(t, "court_directory_replica_fallback_reads_total"), fallbacks)
}

// replicaWithSession starts a replica of the test Redis and a directory
// reading it (dialed as courtd dials one), with session s1 of users a and b
// created on the primary and seen through the replica, and what the
// directory logs and exports.
func replicaWithSession(t *testing.T) (*redistest.Replica, *directory.Redis, *replicaObserver) {
	t.Helper()
	rep := redistest.StartReplica(t, "")
	rc, err := directory.DialReplica(rep.URL, 1<<20)
	require.NoError(t, err)
	t.Cleanup(rc.Close)
	obs := newReplicaObserver()
	d, err := directory.NewRedis(directory.RedisConfig{Client: redistest.Client(t), Replica: rc, Prefix: redistest.Prefix(t),
		Logger: obs.logger(), Registerer: obs.reg})
	require.NoError(t, err)
	ctx := t.Context()
	r := directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-1", OwnerInc: "i1"}
	require.NoError(t, d.CreateSession(ctx, r, "a", "b"))
	checkFor(t, settle, func() error { _, err := d.Lookup(ctx, "a", false); return err })
	return rep, d, obs
}

// replicaObserver holds what a directory logs and the metrics it exports.
type replicaObserver struct {
	logs *logRecorder
	reg  *prometheus.Registry
}

func newReplicaObserver() *replicaObserver {
	return &replicaObserver{logs: &logRecorder{}, reg: prometheus.NewRegistry()}
}

func (o *replicaObserver) logger() *slog.Logger { return slog.New(o.logs) }

// metric is the value of the unlabelled counter or gauge name.
func (o *replicaObserver) metric(t *testing.T, name string) float64 {
	t.Helper()
	families, err := o.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		m := f.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is not exported", name)
	return 0
}

// logRecorder is a slog.Handler that keeps every record's level, message
// and err.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	err   string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			rec.err = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, rec)
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) all() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logRecord(nil), h.records...)
}

func (h *logRecorder) levels() []slog.Level {
	var ls []slog.Level
	for _, r := range h.all() {
		ls = append(ls, r.level)
	}
	return ls
}
