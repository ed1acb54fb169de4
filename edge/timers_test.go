package edge

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSocketTimers: each socket's timer fires once at its latest set time,
// in time order; a stopped one never fires.
func TestSocketTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Server{epoch: time.Now()}
		var mu sync.Mutex
		var fired []uint64
		s.timers = socketTimers{s: s, run: func(c *conn) {
			mu.Lock()
			defer mu.Unlock()
			fired = append(fired, c.id)
		}}
		cs := make([]*conn, 5)
		for i := range cs {
			cs[i] = &conn{s: s, id: uint64(i)}
		}
		ms := time.Millisecond
		s.timers.set(cs[1], 30*ms)
		s.timers.set(cs[2], 10*ms)
		s.timers.set(cs[3], 20*ms)
		s.timers.set(cs[4], 15*ms)
		s.timers.set(cs[0], 40*ms)
		s.timers.stop(cs[4])
		s.timers.set(cs[1], 5*ms) // moved before the others
		s.timers.set(cs[0], 25*ms)

		time.Sleep(12 * ms)
		synctest.Wait()
		mu.Lock()
		require.Equal(t, []uint64{1, 2}, fired)
		mu.Unlock()
		s.timers.set(cs[2], 35*ms) // set again after firing

		time.Sleep(30 * ms)
		synctest.Wait()
		require.Equal(t, []uint64{1, 2, 3, 0, 2}, fired)
		s.timers.mu.Lock()
		defer s.timers.mu.Unlock()
		require.Empty(t, s.timers.h)
		for _, c := range cs {
			require.Zero(t, c.tidx)
		}
	})
}
