package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"courtmesh/directory/rediscache"
)

// Defaults of RedisConfig.
const (
	DefaultPrefix   = "court:"
	DefaultCacheTTL = 30 * time.Second
)

// keyTTL is the hygiene TTL of user and route keys, refreshed on every write
// to them: it only reclaims keys that a crashed writer left behind, so it is
// far longer than any session.
const keyTTL = 48 * time.Hour

// Route hash fields.
const (
	fieldHomeRegion = "home_region"
	fieldOwnerNode  = "owner_node"
	fieldOwnerInc   = "owner_inc"
	fieldEpoch      = "epoch"
)

// RedisConfig configures Redis.
type RedisConfig struct {
	// Client is the Redis client; required. The caller owns it: Redis never
	// closes it. Lookups stay local only when the client has client-side
	// caching (the rueidis default on Redis ≥ 6); with DisableCache every
	// lookup goes to the server.
	Client rueidis.Client
	// Prefix starts every key. Zero value means DefaultPrefix ("court:").
	Prefix string
	// Replica, when set, is a client of a read replica of the same Redis,
	// in this node's region (REDIS_REPLICA_URL). Lookup and RouteOf read
	// from it, through its client-side cache, unless asked fresh, and so
	// does Presence; every write and every fresh read goes to Client. While
	// the replica fails reads (down, resyncing, not up yet when the node
	// started, hung: no answer within 250 ms), they go to Client; dial it
	// with DialReplica (no retries, redials), so a refused read moves at
	// once instead of retrying for those 250 ms. A replica lags its
	// primary, so what it answers may be stale: a caller that acts on it
	// must be ready to be told so and read fresh (docs/ownership.md,
	// "Stale reads"). The caller owns it. Nil means every read goes to
	// Client.
	Replica rueidis.Client
	// CacheTTL bounds how long a client-side cached answer may be kept.
	// Redis tracking invalidates a cached key as soon as it changes, so this
	// bounds memory, not staleness. Zero value means DefaultCacheTTL (30 s).
	CacheTTL time.Duration
	// Logger receives a warning when cached reads move off the Replica (it
	// failed one) and a line when it answers again. Nil means discard.
	Logger *slog.Logger
	// Registerer, when set with a Replica, receives
	// court_directory_replica_fallback_reads_total and
	// court_directory_replica_down.
	Registerer prometheus.Registerer
}

// Redis is the production Store on one Redis deployment. Keys, with P the
// prefix:
//
//	P user:<userID>        string  sessionID the user is in (claim)
//	P route:<sessionID>    hash    home_region, owner_node, owner_inc, epoch
//	P presence:<userID>    hash    edgeNode → expiry in unix ms
//	P node:<nodeID>        string  incarnation; PX = node lease ttl
//	P nodes:<region>       zset    nodeID scored by last heartbeat (ms)
//	P owned:<nodeID>       set     sessions whose lease the node holds
//	P released:<region>    set     released sessions of the region
//	P rl:<event>:<user>:<windowStart ms>  string  count; expires with the window
//	P member:<nodeID>      string  the node's announcement (JSON); PX = its ttl
//	P members              set     nodes that announced (lapsed ones leave on read)
//	P handoff:<nodeID>     set     sessions handed to the node, not acquired yet
//	P presence-marker:<edgeNode>  string  set while the edge's presence is intact; PX = 2 min
//
// User and route keys carry a 48 h hygiene TTL refreshed on write; nodes:
// keys expire an hour after the last heartbeat; owned: and released: sets
// have no TTL (their members leave on acquire, release and end). A presence
// key carries a PEXPIRE of the longest ttl added to it, and readers drop the
// fields whose expiry has passed (on Redis ≥ 7.4, HPEXPIRE would expire each
// field by itself; we target 7.0). Scripts read and write keys they derive
// (routes from claims, owners' sets from routes), so the layout is for one
// Redis, not Redis Cluster. Times of heartbeats and rate-limit windows come
// from the Redis server's clock (TIME), so every node agrees on them.
type Redis struct {
	c        rueidis.Client
	reads    *reads // cached reads: the replica while it answers, else c
	prefix   string
	cacheTTL time.Duration
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis directory on cfg.Client. It does no I/O.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("directory: RedisConfig.Client is nil")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheTTL < 0 {
		return nil, fmt.Errorf("directory: negative CacheTTL %v", cfg.CacheTTL)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &reads{primary: cfg.Client, replica: cfg.Replica, retryAfter: replicaRetryAfter, log: log.With("component", "redis-replica")}
	if err := r.register(cfg.Registerer); err != nil {
		return nil, err
	}
	return &Redis{c: cfg.Client, reads: r, prefix: cfg.Prefix, cacheTTL: cfg.CacheTTL}, nil
}

// Dial connects to the Redis at url, a REDIS_URL such as
// redis://[user:password@]host:port/db (rediss:// for TLS), with
// ClientOption. The caller closes the client.
func Dial(url string) (rueidis.Client, error) {
	return DialCache(url, rediscache.DefaultBytesEachConn)
}

// DialCache is Dial with a client-side cache of at most bytesEachConn a
// connection (rueidis keeps four) instead of rediscache.DefaultBytesEachConn.
func DialCache(url string, bytesEachConn int) (rueidis.Client, error) {
	opt, err := ClientOption(url)
	if err != nil {
		return nil, err
	}
	opt.CacheSizeEachConn = bytesEachConn
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("dial redis: %w", err)
	}
	return c, nil
}

// DialReplica is DialCache for RedisConfig.Replica: the client does not
// retry a read that failed (rueidis retries reads until their context ends),
// so a replica that is down costs one failed attempt before Redis reads the
// primary instead. A replica that does not answer is no error: the client
// dials it again whenever a read is sent to it, so an edge starts while its
// replica is down (at start or in a rolling deploy), reads the primary
// meanwhile, and reads the replica once it answers. A url that does not
// parse is an error.
func DialReplica(url string, bytesEachConn int) (rueidis.Client, error) {
	opt, err := ClientOption(url)
	if err != nil {
		return nil, err
	}
	opt.CacheSizeEachConn = bytesEachConn
	opt.DisableRetry = true
	// One Redis, not a cluster: a single client, which rueidis returns
	// even when its first dial fails (with that failure, ignored here).
	opt.ForceSingleClient = true
	c, err := rueidis.NewClient(opt)
	if c == nil {
		return nil, fmt.Errorf("dial redis replica: %w", err)
	}
	return c, nil
}

// ClientOption is the rueidis configuration of the Redis at url: its
// client-side cache is package rediscache, whose entries leave at their TTL
// (CacheTTL) instead of staying until Redis invalidates them, bounded by
// rediscache.DefaultBytesEachConn a connection.
func ClientOption(url string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return rueidis.ClientOption{}, fmt.Errorf("parse redis url: %w", err)
	}
	opt.NewCacheStoreFn = rediscache.New
	opt.CacheSizeEachConn = rediscache.DefaultBytesEachConn
	return opt, nil
}

func (d *Redis) userKey(userID string) string     { return d.prefix + "user:" + userID }
func (d *Redis) routeKey(sessionID string) string { return d.prefix + "route:" + sessionID }
func (d *Redis) presenceKey(userID string) string { return d.prefix + "presence:" + userID }
func (d *Redis) nodeKey(nodeID string) string     { return d.prefix + "node:" + nodeID }
func (d *Redis) nodesKey(region string) string    { return d.prefix + "nodes:" + region }
func (d *Redis) ownedKey(nodeID string) string    { return d.prefix + "owned:" + nodeID }
func (d *Redis) releasedKey(region string) string { return d.prefix + "released:" + region }

// Lookup implements Directory: GET of the claim, then HGETALL of its route,
// both from the client-side cache (of the replica, when there is one) unless
// fresh.
func (d *Redis) Lookup(ctx context.Context, userID string, fresh bool) (Route, error) {
	key := d.userKey(userID)
	var res rueidis.RedisResult
	if fresh {
		res = d.c.Do(ctx, d.c.B().Get().Key(key).Build())
	} else {
		res = d.reads.doCache(ctx, getCmd, key, d.cacheTTL)
	}
	sid, err := res.ToString()
	if rueidis.IsRedisNil(err) {
		return Route{}, ErrNotFound
	}
	if err != nil {
		return Route{}, fmt.Errorf("directory: get claim of %s: %w", userID, err)
	}
	return d.RouteOf(ctx, sid, fresh)
}

// RouteOf implements Directory: HGETALL of the route, from the client-side
// cache (of the replica, when there is one) unless fresh.
func (d *Redis) RouteOf(ctx context.Context, sessionID string, fresh bool) (Route, error) {
	key := d.routeKey(sessionID)
	var res rueidis.RedisResult
	if fresh {
		res = d.c.Do(ctx, d.c.B().Hgetall().Key(key).Build())
	} else {
		res = d.reads.doCache(ctx, hgetallCmd, key, d.cacheTTL)
	}
	fields, err := res.AsStrMap()
	if err != nil {
		return Route{}, fmt.Errorf("directory: get route of %s: %w", sessionID, err)
	}
	return parseRoute(sessionID, fields)
}

// RoutesOf implements Leases: one HGETALL a session, in one pipeline.
func (d *Redis) RoutesOf(ctx context.Context, sessionIDs []string) (map[string]Route, error) {
	out := make(map[string]Route, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	cmds := make(rueidis.Commands, 0, len(sessionIDs))
	for _, id := range sessionIDs {
		cmds = append(cmds, d.c.B().Hgetall().Key(d.routeKey(id)).Build())
	}
	for i, res := range d.c.DoMulti(ctx, cmds...) {
		fields, err := res.AsStrMap()
		if err != nil {
			return out, fmt.Errorf("directory: get routes: %w", err)
		}
		r, err := parseRoute(sessionIDs[i], fields)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return out, err
		default:
			out[r.SessionID] = r
		}
	}
	return out, nil
}

// parseRoute builds the Route of sessionID from its hash fields.
func parseRoute(sessionID string, fields map[string]string) (Route, error) {
	if len(fields) == 0 {
		return Route{}, ErrNotFound
	}
	epoch, err := strconv.ParseUint(fields[fieldEpoch], 10, 64)
	if err != nil {
		return Route{}, fmt.Errorf("directory: parse epoch of %s: %w", sessionID, err)
	}
	return Route{
		SessionID:  sessionID,
		HomeRegion: fields[fieldHomeRegion],
		OwnerNode:  fields[fieldOwnerNode],
		OwnerInc:   fields[fieldOwnerInc],
		Epoch:      epoch,
	}, nil
}
