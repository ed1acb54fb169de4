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
