package directory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// heartbeatScript takes or renews a node lease and records the node in its
// region, stamped with the server's clock.
//
// KEYS: node lease, region's nodes zset.
// ARGV: node id, incarnation, lease ttl ms, node history ms.
// Returns 1 when done, 0 when a live lease names another incarnation.
var heartbeatScript = rueidis.NewLuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hist = tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], string.format('%d', now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('(%d', now - hist))
redis.call('PEXPIRE', KEYS[2], hist)
return 1
`)

// liveNodesScript lists the nodes of a region whose lease is live.
//
// KEYS: region's nodes zset. ARGV: key prefix.
// Returns id, incarnation, id, incarnation, ...
var liveNodesScript = rueidis.NewLuaScriptReadOnly(`
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local inc = redis.call('GET', ARGV[1] .. 'node:' .. id)
  if inc then
    out[#out + 1] = id
    out[#out + 1] = inc
  end
end
return out
`)

// regionNodesScript forgets the nodes of a region not seen within the node
// history, then lists the rest.
//
// KEYS: region's nodes zset. ARGV: node history ms.
var regionNodesScript = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - tonumber(ARGV[1])))
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

// Heartbeat implements Leases with one Lua script.
func (d *Redis) Heartbeat(ctx context.Context, node, region, incarnation string, ttl time.Duration) error {
	if err := checkHeartbeat(node, region, incarnation, ttl); err != nil {
		return err
	}
	keys := []string{d.nodeKey(node), d.nodesKey(region)}
	args := []string{
		node, incarnation, strconv.FormatInt(ttl.Milliseconds(), 10),
		strconv.FormatInt(nodeHistory.Milliseconds(), 10),
	}
	done, err := heartbeatScript.Exec(ctx, d.c, keys, args).AsInt64()
	if err != nil {
		return fmt.Errorf("directory: heartbeat of %s: %w", node, err)
	}
	if done == 0 {
		return ErrNodeInUse
	}
	return nil
}

// leaveScript deletes a node lease if it names the incarnation.
//
// KEYS: node lease. ARGV: incarnation.
var leaveScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// Leave implements Leases with one Lua script.
func (d *Redis) Leave(ctx context.Context, node, incarnation string) error {
	if err := checkHolder(node, incarnation); err != nil {
		return err
	}
	if err := leaveScript.Exec(ctx, d.c, []string{d.nodeKey(node)}, []string{incarnation}).Error(); err != nil {
		return fmt.Errorf("directory: leave of %s: %w", node, err)
	}
	return nil
}

// LiveNodes implements Leases with one read-only Lua script.
func (d *Redis) LiveNodes(ctx context.Context, region string) ([]NodeInfo, error) {
	res := liveNodesScript.Exec(ctx, d.c, []string{d.nodesKey(region)}, []string{d.prefix})
	flat, err := res.AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("directory: live nodes of %s: %w", region, err)
	}
	live := make([]NodeInfo, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		live = append(live, NodeInfo{ID: flat[i], Incarnation: flat[i+1]})
	}
	slices.SortFunc(live, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
	return live, nil
}

// RegionNodes implements Leases with one Lua script.
func (d *Redis) RegionNodes(ctx context.Context, region string) ([]string, error) {
	args := []string{strconv.FormatInt(nodeHistory.Milliseconds(), 10)}
	nodes, err := regionNodesScript.Exec(ctx, d.c, []string{d.nodesKey(region)}, args).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("directory: nodes of %s: %w", region, err)
	}
	slices.Sort(nodes)
	return nodes, nil
}

// Owned implements Leases with SMEMBERS.
func (d *Redis) Owned(ctx context.Context, node string) ([]string, error) {
	return d.members(ctx, d.ownedKey(node))
}

// Released implements Leases with SMEMBERS.
func (d *Redis) Released(ctx context.Context, region string) ([]string, error) {
	return d.members(ctx, d.releasedKey(region))
}

// members returns the members of the set at key, sorted.
func (d *Redis) members(ctx context.Context, key string) ([]string, error) {
	ids, err := d.c.Do(ctx, d.c.B().Smembers().Key(key).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("directory: members of %s: %w", key, err)
	}
	slices.Sort(ids)
	return ids, nil
}
