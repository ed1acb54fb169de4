package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/rueidis"
)

// acquireBatch is how many sessions one acquire script call takes: large
// enough to save round trips, small enough not to stall Redis.
const acquireBatch = 256

// Outcomes of acquiring one session, as the acquire script reports them.
const (
	acquireNotFound = 0
	acquireTaken    = 1 // acquired now
	acquireHeld     = 2 // already held by the caller
	acquireOwned    = 3 // held by, or handed to, another live node
	acquireLeaseOff = -1
)

// errReply marks a script reply of an unexpected shape.
var errReply = errors.New("directory: unexpected script reply")

// acquireFields is the number of reply entries per session.
const acquireFields = 5

// acquireScript acquires sessions for a node (docs/ownership.md), each
// atomically.
//
// KEYS: the caller's node lease.
// ARGV: key prefix, node, incarnation, route key ttl ms, session ids...
// Returns {-1} when the caller's lease does not name its incarnation, else
// per session: outcome, home_region, owner_node, owner_inc, epoch (after).
var acquireScript = rueidis.NewLuaScript(`
local p, node, inc, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('GET', KEYS[1]) ~= inc then return {-1} end
local out = {}
for i = 5, #ARGV do
  local sid = ARGV[i]
  local rk = p .. 'route:' .. sid
  local f = redis.call('HMGET', rk, 'home_region', 'owner_node', 'owner_inc', 'epoch')
  local region, owner, oinc, epoch = f[1] or '', f[2] or '', f[3] or '', f[4]
  local status = 0
  if not epoch then
    epoch = ''
  elseif owner == node and oinc == inc then
    status = 2
  elseif oinc ~= '' and redis.call('GET', p .. 'node:' .. owner) == oinc then
    status = 3
  elseif oinc == '' and owner ~= node and redis.call('SISMEMBER', p .. 'handoff:' .. owner, sid) == 1
      and redis.call('EXISTS', p .. 'node:' .. owner) == 1 then
    status = 3
  else
    status = 1
    epoch = string.format('%d', tonumber(epoch) + 1)
    redis.call('HSET', rk, 'owner_node', node, 'owner_inc', inc, 'epoch', epoch)
    redis.call('PEXPIRE', rk, ttl)
    if owner ~= '' then redis.call('SREM', p .. 'owned:' .. owner, sid) end
    redis.call('SREM', p .. 'released:' .. region, sid)
    redis.call('SADD', p .. 'owned:' .. node, sid)
    owner, oinc = node, inc
  end
  out[#out + 1] = status
  out[#out + 1] = region
  out[#out + 1] = owner
  out[#out + 1] = oinc
  out[#out + 1] = epoch
end
return out
`)

// releaseScript releases the lease of a session its holder gives up.
//
// KEYS: route. ARGV: key prefix, session id, node, incarnation.
// Returns 1 when released, 0 when there is no route, -1 when the caller
// does not hold the lease.
var releaseScript = rueidis.NewLuaScript(`
local p, sid = ARGV[1], ARGV[2]
local f = redis.call('HMGET', KEYS[1], 'home_region', 'owner_node', 'owner_inc', 'epoch')
if not f[4] then return 0 end
if f[2] ~= ARGV[3] or f[3] ~= ARGV[4] then return -1 end
redis.call('HSET', KEYS[1], 'owner_inc', '')
redis.call('SREM', p .. 'owned:' .. ARGV[3], sid)
redis.call('SADD', p .. 'released:' .. (f[1] or ''), sid)
return 1
`)

// acquired is the outcome of acquiring one session.
type acquired struct {
	status int64
	route  Route
}

// Acquire implements Leases with one Lua script.
func (d *Redis) Acquire(ctx context.Context, sessionID, node, incarnation string) (Route, error) {
	if err := checkHolder(node, incarnation); err != nil {
		return Route{}, err
	}
	res := acquireScript.Exec(ctx, d.c, []string{d.nodeKey(node)}, d.acquireArgs(node, incarnation, sessionID))
	got, err := parseAcquired(res, sessionID)
	if err != nil {
		return Route{}, fmt.Errorf("directory: acquire %s: %w", sessionID, err)
	}
	switch got[0].status {
	case acquireNotFound:
		return Route{}, ErrNotFound
	case acquireOwned:
		return got[0].route, ErrOwned
	}
	return got[0].route, nil
}

// AcquireMany implements Leases: the acquire script over batches of
// sessions, all batches in one pipeline.
func (d *Redis) AcquireMany(ctx context.Context, sessionIDs []string, node, incarnation string) (map[string]Route, error) {
	if err := checkHolder(node, incarnation); err != nil {
		return nil, err
	}
	held := make(map[string]Route, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return held, nil
	}
	var execs []rueidis.LuaExec
	for batch := range slices.Chunk(sessionIDs, acquireBatch) {
		execs = append(execs, rueidis.LuaExec{
			Keys: []string{d.nodeKey(node)},
			Args: d.acquireArgs(node, incarnation, batch...),
		})
	}
	var lost bool
	for i, res := range acquireScript.ExecMulti(ctx, d.c, execs...) {
		batch := sessionIDs[i*acquireBatch : min((i+1)*acquireBatch, len(sessionIDs))]
		got, err := parseAcquired(res, batch...)
		if errors.Is(err, ErrLeaseLost) {
			lost = true
			continue
		}
		if err != nil {
			return held, fmt.Errorf("directory: acquire sessions: %w", err)
		}
		for _, a := range got {
			if a.status == acquireTaken || a.status == acquireHeld {
				held[a.route.SessionID] = a.route
			}
		}
	}
	if lost {
		return held, ErrLeaseLost
	}
	return held, nil
}

// acquireArgs returns the ARGV of the acquire script.
func (d *Redis) acquireArgs(node, incarnation string, sessionIDs ...string) []string {
	args := make([]string, 0, 4+len(sessionIDs))
	args = append(args, d.prefix, node, incarnation, strconv.FormatInt(keyTTL.Milliseconds(), 10))
	return append(args, sessionIDs...)
}

// parseAcquired reads the acquire script's reply about sessionIDs.
func parseAcquired(res rueidis.RedisResult, sessionIDs ...string) ([]acquired, error) {
	msgs, err := res.ToArray()
	if err != nil {
		return nil, err
	}
	if len(msgs) == 1 {
		if n, err := msgs[0].AsInt64(); err == nil && n == acquireLeaseOff {
			return nil, ErrLeaseLost
		}
	}
	if len(msgs) != acquireFields*len(sessionIDs) {
		return nil, fmt.Errorf("%w: %d entries for %d sessions", errReply, len(msgs), len(sessionIDs))
	}
	out := make([]acquired, len(sessionIDs))
	for i, sid := range sessionIDs {
		a, err := parseOneAcquired(sid, msgs[acquireFields*i:acquireFields*(i+1)])
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// parseOneAcquired reads the reply entries about one session.
func parseOneAcquired(sessionID string, msgs []rueidis.RedisMessage) (acquired, error) {
	status, err := msgs[0].AsInt64()
	if err != nil {
		return acquired{}, fmt.Errorf("%w: status: %w", errReply, err)
	}
	if status == acquireNotFound {
		return acquired{status: status}, nil
	}
	fields := make(map[string]string, 4)
	for j, name := range []string{fieldHomeRegion, fieldOwnerNode, fieldOwnerInc, fieldEpoch} {
		if fields[name], err = msgs[1+j].ToString(); err != nil {
			return acquired{}, fmt.Errorf("%w: %s: %w", errReply, name, err)
		}
	}
	r, err := parseRoute(sessionID, fields)
	return acquired{status: status, route: r}, err
}

// Release implements Leases with one Lua script.
func (d *Redis) Release(ctx context.Context, sessionID, node, incarnation string) error {
	if err := checkHolder(node, incarnation); err != nil {
		return err
	}
	args := []string{d.prefix, sessionID, node, incarnation}
	n, err := releaseScript.Exec(ctx, d.c, []string{d.routeKey(sessionID)}, args).AsInt64()
	switch {
	case err != nil:
		return fmt.Errorf("directory: release %s: %w", sessionID, err)
	case n == 0:
		return ErrNotFound
	case n < 0:
		return ErrNotOwner
	}
	return nil
}
