package directory

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/rueidis"
)

// createScript claims two users and stores a route in one step.
//
// KEYS: creator claim, partner claim, route.
// ARGV: session id, home region, owner node, epoch, key ttl in ms, route key prefix.
// Returns 1 when done, 0 when a user already has a live claim.
//
// A claim is live only when the route it names exists; that route key is
// derived from the claim, so it is not in KEYS (standalone Redis only).
var createScript = rueidis.NewLuaScript(`
for i = 1, 2 do
  local sid = redis.call('GET', KEYS[i])
  if sid and redis.call('EXISTS', ARGV[6] .. sid) == 1 then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[5])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'home_region', ARGV[2], 'owner_node', ARGV[3], 'epoch', ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 1
`)

// endScript deletes a route and the given claims that still name it.
//
// KEYS: route, then the claims. ARGV: session id.
var endScript = rueidis.NewLuaScript(`
redis.call('DEL', KEYS[1])
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
	keys := []string{d.userKey(creatorID), d.userKey(partnerID), d.routeKey(r.SessionID)}
	args := []string{
		r.SessionID, r.HomeRegion, r.OwnerNode, strconv.FormatUint(r.Epoch, 10),
		strconv.FormatInt(keyTTL.Milliseconds(), 10), d.routePrefix(),
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
	if err := endScript.Exec(ctx, d.c, keys, []string{sessionID}).Error(); err != nil {
		return fmt.Errorf("directory: end session %s: %w", sessionID, err)
	}
	return nil
}
