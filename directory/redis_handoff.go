package directory

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/rueidis"
)

// handoffScript hands a session its holder gives up to a named node.
//
// KEYS: route. ARGV: key prefix, session id, node, incarnation, target,
// region. Returns 1 when handed off, 0 when there is no route, -1 when the
// caller does not hold the lease.
var handoffScript = rueidis.NewLuaScript(`
local p, sid = ARGV[1], ARGV[2]
local f = redis.call('HMGET', KEYS[1], 'home_region', 'owner_node', 'owner_inc', 'epoch')
if not f[4] then return 0 end
if f[2] ~= ARGV[3] or f[3] ~= ARGV[4] then return -1 end
redis.call('HSET', KEYS[1], 'owner_node', ARGV[5], 'owner_inc', '', 'home_region', ARGV[6])
redis.call('SREM', p .. 'owned:' .. ARGV[3], sid)
redis.call('SADD', p .. 'handoff:' .. ARGV[5], sid)
return 1
`)

func (d *Redis) handoffKey(node string) string { return d.prefix + "handoff:" + node }

// Handoff implements Handoffs with one Lua script.
func (d *Redis) Handoff(ctx context.Context, sessionID, node, incarnation, target, region string) error {
	if err := checkHandoff(node, incarnation, target, region); err != nil {
		return err
	}
	args := []string{d.prefix, sessionID, node, incarnation, target, region}
	n, err := handoffScript.Exec(ctx, d.c, []string{d.routeKey(sessionID)}, args).AsInt64()
	switch {
	case err != nil:
		return fmt.Errorf("directory: hand off %s: %w", sessionID, err)
	case n == 0:
		return ErrNotFound
	case n < 0:
		return ErrNotOwner
	}
	return nil
}

// HandedTo implements Handoffs.
func (d *Redis) HandedTo(ctx context.Context, node string) ([]string, error) {
	ids, err := d.c.Do(ctx, d.c.B().Smembers().Key(d.handoffKey(node)).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("directory: hand-offs to %s: %w", node, err)
	}
	slices.Sort(ids)
	return ids, nil
}

// clearHandoffsScript removes sessions from a node's hand-off set, except
// those whose route still awaits the node (a hand-off made again after the
// node read its set).
//
// KEYS: handoff set. ARGV: key prefix, node, session ids.
var clearHandoffsScript = rueidis.NewLuaScript(`
local p, node = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local f = redis.call('HMGET', p .. 'route:' .. ARGV[i], 'owner_node', 'owner_inc')
  if not (f[1] == node and f[2] == '') then
    redis.call('SREM', KEYS[1], ARGV[i])
  end
end
return 0
`)

// ClearHandoffs implements Handoffs with one Lua script.
func (d *Redis) ClearHandoffs(ctx context.Context, node string, sessionIDs ...string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	args := append([]string{d.prefix, node}, sessionIDs...)
	if err := clearHandoffsScript.Exec(ctx, d.c, []string{d.handoffKey(node)}, args).Error(); err != nil {
		return fmt.Errorf("directory: clear hand-offs to %s: %w", node, err)
	}
	return nil
}
