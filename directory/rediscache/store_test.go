package rediscache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

const ttl = 30 * time.Second

// blob returns the reply "+s" whose key expires at pxat in Redis (unix ms;
// 0: no expiry), built through rueidis's cache encoding: 7 bytes of expiry,
// then the type, the length and the bytes.
func blob(t *testing.T, s string, pxat int64) rueidis.RedisMessage {
	t.Helper()
	buf := binary.LittleEndian.AppendUint64(nil, uint64(pxat))[:7]
	buf = append(buf, '+')
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
	buf = append(buf, s...)
	var m rueidis.RedisMessage
	require.NoError(t, m.CacheUnmarshalView(buf))
	return m
}

func str(t *testing.T, m rueidis.RedisMessage) string {
	t.Helper()
	s, err := m.ToString()
	require.NoError(t, err)
	return s
}

func newStore() *store { return New(rueidis.CacheStoreOption{}).(*store) }

// entries is the number of entries (ready or pending) the store holds.
func (s *store) entries() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, cmds := range s.byKey {
		n += len(cmds)
	}
	return n
}

func TestFlightUpdateAndHit(t *testing.T) {
	s := newStore()
	now := time.Now()
	v, e := s.Flight("k", "GET", ttl, now)
	require.True(t, !v.IsCacheHit() && e == nil, "a first flight fetches")
	_, pending := s.Flight("k", "GET", ttl, now)
	require.NotNil(t, pending, "a second flight waits for the first")

	s.Delete([]rueidis.RedisMessage{blob(t, "k", 0)})
	_, again := s.Flight("k", "GET", ttl, now)
	require.Same(t, pending, again, "an invalidation leaves a pending flight")

	xat := s.Update("k", "GET", blob(t, "v", now.Add(time.Hour).UnixMilli()))
	require.Equal(t, now.Add(ttl).UnixMilli(), xat, "the client TTL bounds a longer server expiry")
	got, err := pending.Wait(context.Background())
	require.NoError(t, err)
	require.Equal(t, "v", str(t, got))

	hit, e := s.Flight("k", "GET", ttl, now.Add(ttl-time.Millisecond))
	require.Nil(t, e)
	require.True(t, hit.IsCacheHit(), "a flight before the TTL hits")
	require.Equal(t, "v", str(t, hit))

	s.Delete([]rueidis.RedisMessage{blob(t, "k", 0)})
	v, e = s.Flight("k", "GET", ttl, now)
	require.True(t, !v.IsCacheHit() && e == nil, "an invalidated key is fetched again")
	require.Zero(t, s.Update("other", "GET", blob(t, "v", 0)), "no flight pending: nothing cached")
}

func TestServerExpiryShortensTheEntry(t *testing.T) {
	s := newStore()
	now := time.Now()
	s.Flight("k", "GET", ttl, now)
	pxat := now.Add(time.Second).UnixMilli()
	require.Equal(t, pxat, s.Update("k", "GET", blob(t, "v", pxat)))
	v, e := s.Flight("k", "GET", ttl, now.Add(time.Second))
	require.True(t, !v.IsCacheHit() && e == nil, "expired with its key in Redis")
}

func TestCancelFailsTheWaiters(t *testing.T) {
	s := newStore()
	now := time.Now()
	s.Flight("k", "GET", ttl, now)
	_, pending := s.Flight("k", "GET", ttl, now)
	s.Cancel("k", "GET", errors.New("boom"))
	_, err := pending.Wait(context.Background())
	require.EqualError(t, err, "boom")
	_, e := s.Flight("k", "GET", ttl, now)
	require.Nil(t, e, "a cancelled flight is fetched again")
}

func TestCloseFailsTheWaitersAndEmpties(t *testing.T) {
	s := newStore()
	now := time.Now()
	s.Flight("ready", "GET", ttl, now)
	s.Update("ready", "GET", blob(t, "v", 0))
	s.Flight("k", "GET", ttl, now)
	_, pending := s.Flight("k", "GET", ttl, now)
	s.Close(errors.New("closed"))
	_, err := pending.Wait(context.Background())
	require.EqualError(t, err, "closed")
	require.Zero(t, s.entries())
	require.Zero(t, s.size)
	_, e := s.Flight("k", "GET", ttl, now)
	require.Nil(t, e)
	require.Zero(t, s.Update("ready", "GET", blob(t, "v", 0)), "a flight from before Close is not cached")
}

func TestWaitHonoursItsContext(t *testing.T) {
	s := newStore()
	now := time.Now()
	s.Flight("k", "GET", ttl, now)
	_, pending := s.Flight("k", "GET", ttl, now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pending.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func TestDeleteAllKeepsPendingFlights(t *testing.T) {
	s := newStore()
	now := time.Now()
	for _, cmd := range []string{"GET", "HGETALL"} {
		s.Flight("k", cmd, ttl, now)
		s.Update("k", cmd, blob(t, "v", 0))
	}
	s.Flight("p", "GET", ttl, now)
	s.Delete(nil)
	require.Equal(t, 1, s.entries(), "only the pending flight stays")
	require.Zero(t, s.size)
}

// A key read once and never written again (a user's presence read after the
// user left) is never invalidated: its entry must leave at its TTL. rueidis's
// own store keeps it until its 128 MiB are full.
func TestEntriesLeaveAtTheirTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		for i := range 10000 {
			key := fmt.Sprintf("court:presence:user-%d", i)
			s.Flight(key, "HGETALL", ttl, time.Now())
			s.Update(key, "HGETALL", blob(t, "", 0))
		}
		require.Equal(t, 10000, s.entries())
		time.Sleep(ttl)
		s.Flight("court:presence:late", "HGETALL", ttl, time.Now())
		require.Equal(t, 1, s.entries(), "the next flight sweeps every expired entry")
		require.Zero(t, s.size, "the pending flight has no reply yet")
		require.LessOrEqual(t, len(s.queue)-s.head, 1)
		require.Less(t, cap(s.queue), 1000, "the queue does not keep the room of the burst")
	})
}

func TestTheBoundEvictsTheOldest(t *testing.T) {
	s := New(rueidis.CacheStoreOption{CacheSizeEachConn: 64 << 10}).(*store)
	now := time.Now()
	for i := range 1000 {
		key := fmt.Sprintf("k%d", i)
		s.Flight(key, "GET", ttl, now)
		s.Update(key, "GET", blob(t, "value", 0))
		require.LessOrEqual(t, s.size, s.max)
	}
	require.Less(t, s.entries(), 1000)
	newest, _ := s.Flight("k999", "GET", ttl, now)
	require.True(t, newest.IsCacheHit(), "the newest entry stays")
	v, e := s.Flight("k0", "GET", ttl, now)
	require.True(t, !v.IsCacheHit() && e == nil, "the oldest entry left")
}
