package directory

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/rueidis"
)

// dropRouteLua deletes the route KEYS[1] of session ARGV[1] and its entries
// in its owner's owned set and its region's released set; p is the key
// prefix.
const dropRouteLua = `
local old = redis.call('HMGET', KEYS[1], 'home_region', 'owner_node')
if old[1] then redis.call('SREM', p .. 'released:' .. old[1], ARGV[1]) end
if old[2] then redis.call('SREM', p .. 'owned:' .. old[2], ARGV[1]) end
redis.call('DEL', KEYS[1])
`

// createScript claims two users and stores a route in one step.
//
// KEYS: route, creator claim, partner claim.
// ARGV: session id, home region, owner node, owner incarnation, epoch, key
// ttl in ms, key prefix.
// Returns 1 when done, 0 when a user already has a live claim.
//
// A claim is live only when the route it names exists; that route key, and
// the owned and released sets, are derived, not in KEYS (standalone Redis
// only).
var createScript = rueidis.NewLuaScript(`
local p = ARGV[7]
for i = 2, 3 do
  local sid = redis.call('GET', KEYS[i])
  if sid and redis.call('EXISTS', p .. 'route:' .. sid) == 1 then
    return 0
  end
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[6])
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[6])
` + dropRouteLua + `
redis.call('HSET', KEYS[1], 'home_region', ARGV[2], 'owner_node', ARGV[3],
  'owner_inc', ARGV[4], 'epoch', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if ARGV[4] == '' then
  redis.call('SADD', p .. 'released:' .. ARGV[2], ARGV[1])
else
  redis.call('SADD', p .. 'owned:' .. ARGV[3], ARGV[1])
end
return 1
`)

// endScript deletes a route, its set entries, and the given claims that
// still name it.
//
// KEYS: route, then the claims. ARGV: session id, key prefix.
var endScript = rueidis.NewLuaScript(`
local p = ARGV[2]
` + dropRouteLua + `
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
  end
end
return 1
`)

// CreateSession implements Directory with one Lua script.
func (d *Redis) CreateSession(ctx context.Context, r Route, creatorID, partnerID string) error {
	if err := checkCreate(r, creatorID, partnerID); err != nil {
		return err
	}
	if r.Epoch == 0 {
		r.Epoch = 1
	}
	keys := []string{d.routeKey(r.SessionID), d.userKey(creatorID), d.userKey(partnerID)}
	args := []string{
		r.SessionID, r.HomeRegion, r.OwnerNode, r.OwnerInc, strconv.FormatUint(r.Epoch, 10),
		strconv.FormatInt(keyTTL.Milliseconds(), 10), d.prefix,
	}
	done, err := createScript.Exec(ctx, d.c, keys, args).AsInt64()
	if err != nil {
		return fmt.Errorf("directory: create session %s: %w", r.SessionID, err)
	}
	if done == 0 {
		return ErrUserBusy
	}
	return nil
}

// EndSession implements Directory with one Lua script.
func (d *Redis) EndSession(ctx context.Context, sessionID string, userIDs ...string) error {
	keys := make([]string, 0, 1+len(userIDs))
	keys = append(keys, d.routeKey(sessionID))
	for _, u := range userIDs {
		keys = append(keys, d.userKey(u))
	}
	if err := endScript.Exec(ctx, d.c, keys, []string{sessionID, d.prefix}).Error(); err != nil {
		return fmt.Errorf("directory: end session %s: %w", sessionID, err)
	}
	return nil
}
