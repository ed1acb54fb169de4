package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// announceScript writes a member's record with its TTL and files its id in
// the members set.
//
// KEYS: member record, members set. ARGV: id, record JSON, ttl ms.
var announceScript = rueidis.NewLuaScript(`
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`)

// membersScript returns the live records and forgets the ids whose record
// lapsed.
//
// KEYS: members set. ARGV: key prefix.
var membersScript = rueidis.NewLuaScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local rec = redis.call('GET', ARGV[1] .. 'member:' .. id)
  if rec then
    out[#out + 1] = rec
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
`)

func (d *Redis) memberKey(id string) string { return d.prefix + "member:" + id }
func (d *Redis) membersKey() string         { return d.prefix + "members" }

// Announce implements Membership with one Lua script.
func (d *Redis) Announce(ctx context.Context, m Member, ttl time.Duration) error {
	if err := checkMember(m, ttl); err != nil {
		return err
	}
	rec, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("directory: encode member %s: %w", m.ID, err)
	}
	keys := []string{d.memberKey(m.ID), d.membersKey()}
	args := []string{m.ID, string(rec), strconv.FormatInt(ttl.Milliseconds(), 10)}
	if err := announceScript.Exec(ctx, d.c, keys, args).Error(); err != nil {
		return fmt.Errorf("directory: announce %s: %w", m.ID, err)
	}
	return nil
}

// Withdraw implements Membership.
func (d *Redis) Withdraw(ctx context.Context, id string) error {
	cmds := rueidis.Commands{
		d.c.B().Del().Key(d.memberKey(id)).Build(),
		d.c.B().Srem().Key(d.membersKey()).Member(id).Build(),
	}
	for _, res := range d.c.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("directory: withdraw %s: %w", id, err)
		}
	}
	return nil
}

// Members implements Membership with one Lua script.
func (d *Redis) Members(ctx context.Context) ([]Member, error) {
	recs, err := membersScript.Exec(ctx, d.c, []string{d.membersKey()}, []string{d.prefix}).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("directory: members: %w", err)
	}
	out := make([]Member, 0, len(recs))
	for _, rec := range recs {
		var m Member
		if err := json.Unmarshal([]byte(rec), &m); err != nil {
			return nil, fmt.Errorf("directory: decode member record: %w", err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
