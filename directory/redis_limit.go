package directory

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// allowScript counts one event in the current fixed window, by the server's
// clock.
//
// ARGV: counter key without its window start, window ms.
// Returns the count in the window and the ms left in it. The counter key
// is derived, not in KEYS (standalone Redis only).
var allowScript = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local w = tonumber(ARGV[2])
local start = now - now % w
local key = ARGV[1] .. string.format('%d', start)
local n = redis.call('INCR', key)
local left = start + w - now
redis.call('PEXPIRE', key, left)
return {n, left}
`)

// Allow implements Limiter with one Lua script on the key
// P rl:<event>:<user>:<window start ms>.
func (d *Redis) Allow(ctx context.Context, userID, event string, limit int, window time.Duration) (bool, time.Duration, error) {
	if err := checkAllow(userID, event, limit, window); err != nil {
		return false, 0, err
	}
	args := []string{
		d.prefix + "rl:" + event + ":" + userID + ":",
		strconv.FormatInt(window.Milliseconds(), 10),
	}
	got, err := allowScript.Exec(ctx, d.c, nil, args).AsIntSlice()
	if err == nil && len(got) != 2 {
		err = fmt.Errorf("%w: %d entries", errReply, len(got))
	}
	if err != nil {
		return false, 0, fmt.Errorf("directory: count %s of %s: %w", event, userID, err)
	}
	if got[0] > int64(limit) {
		return false, time.Duration(got[1]) * time.Millisecond, nil
	}
	return true, 0, nil
}

// AddCounts implements Counter in one pipeline: per count, INCRBY of the
// window's counter (the key Allow uses) and PEXPIREAT at the window's end.
func (d *Redis) AddCounts(ctx context.Context, counts []WindowCount) ([]int64, error) {
	if len(counts) == 0 {
		return nil, nil
	}
	cmds := make(rueidis.Commands, 0, 2*len(counts))
	for _, c := range counts {
		key := d.prefix + "rl:" + c.Event + ":" + c.UserID + ":" + strconv.FormatInt(c.StartMs, 10)
		cmds = append(cmds,
			d.c.B().Incrby().Key(key).Increment(c.N).Build(),
			d.c.B().Pexpireat().Key(key).MillisecondsTimestamp(c.StartMs+c.Window.Milliseconds()).Build())
	}
	totals := make([]int64, len(counts))
	for i, res := range d.c.DoMulti(ctx, cmds...) {
		n, err := res.AsInt64()
		if err != nil {
			return nil, fmt.Errorf("directory: add rate-limit counts: %w", err)
		}
		if i%2 == 0 {
			totals[i/2] = n
		}
	}
	return totals, nil
}
