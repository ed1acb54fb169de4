package directory_test

import (
	"fmt"
	"testing"

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
