// Package rediscache is the client-side cache of the Redis directory: a
// rueidis CacheStore whose entries leave at their TTL.
//
// rueidis's own store keeps a cached reply until Redis invalidates its key,
// until a read finds it expired, or until the connection's cache is full
// (128 MiB by default). A key that is read once and never written again (the
// presence of a user who has left, read by the home that pushes the end of
// the user's session) is never invalidated nor read again, so its entry
// stays: the cache grows with the number of users ever seen. Here every
// entry also leaves once its TTL has passed, so the cache holds at most what
// was read in the last TTL (the directory's CacheTTL, 30 s by default), and
// never more than the byte bound of the connection.
package rediscache

import (
	"context"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// DefaultBytesEachConn is the byte bound of one connection's cache when
// CacheStoreOption.CacheSizeEachConn is zero. A cached directory reply and
// its bookkeeping take about 0.5–1 KiB, so 8 MiB is some 10 000 keys: more
// than a node reads in one TTL at hundreds of sessions a second.
const DefaultBytesEachConn = 8 << 20

// entryOverhead is the bookkeeping of one entry beyond its key, command and
// reply: the entry itself, its slots in the maps and in the queue.
const entryOverhead = 256

// New returns an empty store bounded by opt.CacheSizeEachConn bytes (zero:
// DefaultBytesEachConn). It is a rueidis.NewCacheStoreFn: rueidis makes one
// per connection.
func New(opt rueidis.CacheStoreOption) rueidis.CacheStore {
	max := opt.CacheSizeEachConn
	if max <= 0 {
		max = DefaultBytesEachConn
	}
	return &store{byKey: make(map[string]map[string]*entry), max: max}
}

// entry is one cached reply of a command on a key, or the flight that
// fetches it (pending until Update or Cancel).
type entry struct {
	key, cmd string
	ch       chan struct{} // closed once val or err is set
	val      rueidis.RedisMessage
	err      error
	xat      int64 // unix ms at which the entry expires
	size     int
	ready    bool // val is set; guarded by store.mu
	gone     bool // removed from the store; guarded by store.mu
}

// Wait returns the reply of the flight, or ctx's error.
func (e *entry) Wait(ctx context.Context) (rueidis.RedisMessage, error) {
	select {
	case <-ctx.Done():
		return rueidis.RedisMessage{}, ctx.Err()
	case <-e.ch:
		return e.val, e.err
	}
}

// store implements rueidis.CacheStore. Entries are kept in the order of
// their flights; the oldest leave first, once expired or when the store is
// over its bound. A pending flight at the head holds the ones behind it
// until it lands (its reply is on the way, or the connection closes the
// store), and an entry can outlive its TTL by at most the longest TTL of the
// entries ahead of it.
type store struct {
	mu    sync.RWMutex
	byKey map[string]map[string]*entry // key → command → entry; guarded by mu
	queue []*entry                     // entries in flight order, from head; guarded by mu
	head  int                          // guarded by mu
	size  int                          // bytes of the ready entries; guarded by mu
	max   int
}

var _ rueidis.CacheStore = (*store)(nil)

// Flight implements rueidis.CacheStore: the cached reply, the flight to
// wait for, or neither (the caller fetches the reply and calls Update or
// Cancel).
func (s *store) Flight(key, cmd string, ttl time.Duration, now time.Time) (rueidis.RedisMessage, rueidis.CacheEntry) {
	ms := now.UnixMilli()
	s.mu.RLock()
	e := s.byKey[key][cmd]
	switch {
	case e == nil:
	case !e.ready:
		s.mu.RUnlock()
		return rueidis.RedisMessage{}, e
	case ms < e.xat:
		v := e.val
		s.mu.RUnlock()
		return v, nil
	}
	s.mu.RUnlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byKey[key][cmd]; e != nil {
		switch {
		case !e.ready:
			return rueidis.RedisMessage{}, e
		case ms < e.xat:
			return e.val, nil
		}
		s.remove(e)
	}
	e = &entry{key: key, cmd: cmd, ch: make(chan struct{}), xat: now.Add(ttl).UnixMilli()}
	cmds := s.byKey[key]
	if cmds == nil {
		cmds = make(map[string]*entry, 1)
		s.byKey[key] = cmds
	}
	cmds[cmd] = e
	s.queue = append(s.queue, e)
	s.sweep(ms)
	return rueidis.RedisMessage{}, nil
}

// Update implements rueidis.CacheStore: val is the reply of the pending
// flight of (key, cmd). It expires at the earlier of the flight's TTL and
// the key's own expiry in Redis; Update returns that time (unix ms), or 0
// when no flight is pending.
func (s *store) Update(key, cmd string, val rueidis.RedisMessage) int64 {
	s.mu.Lock()
	e := s.byKey[key][cmd]
	if e == nil || e.ready {
		s.mu.Unlock()
		return 0
	}
	if pxat := val.CachePXAT(); pxat > 0 && pxat < e.xat {
		e.xat = pxat
	}
	e.val, e.ready = val, true
	e.size = entryOverhead + len(key) + len(cmd) + val.CacheSize()
	s.size += e.size
	s.sweep(time.Now().UnixMilli())
	xat := e.xat
	s.mu.Unlock()
	close(e.ch)
	return xat
}

// Cancel implements rueidis.CacheStore: the pending flight of (key, cmd)
// failed with err.
func (s *store) Cancel(key, cmd string, err error) {
	s.mu.Lock()
	e := s.byKey[key][cmd]
	if e == nil || e.ready {
		s.mu.Unlock()
		return
	}
	e.err = err
	s.unlink(e)
	s.mu.Unlock()
	close(e.ch)
}

// Delete implements rueidis.CacheStore: Redis invalidated keys (nil: all
// of them). Pending flights stay: their replies are newer than the
// invalidation.
func (s *store) Delete(keys []rueidis.RedisMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if keys == nil {
		for _, cmds := range s.byKey {
			s.removeReady(cmds)
		}
		return
	}
	for _, k := range keys {
		if key, err := k.ToString(); err == nil {
			s.removeReady(s.byKey[key])
		}
	}
}

// Close implements rueidis.CacheStore: the connection broke. Every entry
// leaves, and the pending flights fail with err.
func (s *store) Close(err error) {
	s.mu.Lock()
	var pending []*entry
	for _, cmds := range s.byKey {
		for _, e := range cmds {
			if !e.ready {
				e.err = err
				pending = append(pending, e)
			}
			e.gone = true
		}
	}
	s.byKey = make(map[string]map[string]*entry)
	s.queue, s.head, s.size = nil, 0, 0
	s.mu.Unlock()
	for _, e := range pending {
		close(e.ch)
	}
}

// sweep drops, oldest first, the ready entries that expired by ms or that
// are over the bound. Lock held on entry.
func (s *store) sweep(ms int64) {
	for s.head < len(s.queue) {
		e := s.queue[s.head]
		if !e.gone {
			if !e.ready || (ms < e.xat && s.size <= s.max) {
				break
			}
			s.remove(e)
		}
		s.queue[s.head] = nil
		s.head++
	}
	// Compact once the dropped head is half the slice: amortised O(1) a
	// flight, and the array does not keep the room of a past burst.
	if s.head > 0 && s.head >= len(s.queue)/2 {
		s.queue = append(make([]*entry, 0, 2*(len(s.queue)-s.head)+16), s.queue[s.head:]...)
		s.head = 0
	}
}

// removeReady removes the ready entries of one key. Lock held on entry.
func (s *store) removeReady(cmds map[string]*entry) {
	for _, e := range cmds {
		if e.ready {
			s.remove(e)
		}
	}
}

// remove removes e, a ready entry. Lock held on entry.
func (s *store) remove(e *entry) {
	s.size -= e.size
	s.unlink(e)
}

// unlink takes e out of the maps; the queue skips it. Lock held on entry.
func (s *store) unlink(e *entry) {
	e.gone = true
	cmds := s.byKey[e.key]
	delete(cmds, e.cmd)
	if len(cmds) == 0 {
		delete(s.byKey, e.key)
	}
}
