package directory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// TestRedisReplicaReads: with a Replica, cached lookups come from the
// replica (they see what it has, stale while replication is stopped, and
// catch up once it resumes), fresh lookups and writes from the primary.
func TestRedisReplicaReads(t *testing.T) {
	t.Parallel()
	rep, d := replicaWithSession(t)
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
}

// TestReplicaDownReadsThePrimary: when the region's replica dies, cached
// reads go to the primary instead of failing, and answer what the primary
// holds; after one failed attempt the replica is left alone for a while, so
// an outage does not cost every read a failed try.
func TestReplicaDownReadsThePrimary(t *testing.T) {
	t.Parallel()
	rep, d := replicaWithSession(t)
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
	_, err = d.Presence(ctx, "a")
	require.NoError(t, err)
	require.EqualValues(t, 1, d.ReplicaFallbacksForTest(), "after one failure the replica is not asked again at once")
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
	d, err := directory.NewRedis(directory.RedisConfig{Client: redistest.Client(t), Replica: rc, Prefix: redistest.Prefix(t)})
	require.NoError(t, err)
	d.SetReplicaRetryForTest(20 * time.Millisecond)
	ctx := t.Context()
	require.NoError(t, d.CreateSession(ctx, directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-1", OwnerInc: "i1"}, "a", "b"))
	require.NoError(t, d.CreateSession(ctx, directory.Route{SessionID: "s2", HomeRegion: "us", OwnerNode: "home-2", OwnerInc: "i1"}, "c", "e"))
	got, err := d.Lookup(ctx, "a", false)
	require.NoError(t, err, "the primary answers while the replica does not")
	require.Equal(t, "home-1", got.OwnerNode)
	require.Positive(t, d.ReplicaFallbacksForTest(), "the replica was tried first")

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
}

// replicaWithSession starts a replica of the test Redis and a directory
// reading it (dialed as courtd dials one), with session s1 of users a and b
// created on the primary and seen through the replica.
func replicaWithSession(t *testing.T) (*redistest.Replica, *directory.Redis) {
	t.Helper()
	rep := redistest.StartReplica(t, "")
	rc, err := directory.DialReplica(rep.URL, 1<<20)
	require.NoError(t, err)
	t.Cleanup(rc.Close)
	d, err := directory.NewRedis(directory.RedisConfig{Client: redistest.Client(t), Replica: rc, Prefix: redistest.Prefix(t)})
	require.NoError(t, err)
	ctx := t.Context()
	r := directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-1", OwnerInc: "i1"}
	require.NoError(t, d.CreateSession(ctx, r, "a", "b"))
	checkFor(t, settle, func() error { _, err := d.Lookup(ctx, "a", false); return err })
	return rep, d
}
