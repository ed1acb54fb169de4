package cli

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/directory"
	"courtmesh/directory/rediscache"
	"courtmesh/mesh/meshtest"
	"courtmesh/regions"
)

// wanRedis is the directory of a dev edge outside the primary region, with
// its Redis traffic across the simulated WAN: through a TCP proxy that
// carries the catalog's RTT between the edge's region and the primary's,
// where the Redis primary lives. With REDIS_REPLICA_URL set, its lookups
// read that replica, taken to be in the edge's region (no delay); a replica
// that replicates through Proxy sees the primary's writes as late as a real
// one across the ocean would.
type wanRedis struct {
	Dir   directory.Store
	Proxy string // host:port of the proxied path to the primary
	close func()
}

// openWANRedis opens the directory of an edge in region on the Redis at
// redisURL, its proxy listening on listen ("127.0.0.1:0" picks a port); with
// REDIS_REPLICA_URL set it reads the replica there, as openEdgeDirectory.
func openWANRedis(wan *meshtest.Network, catalog *regions.Catalog, region, redisURL, listen string, logger *slog.Logger, reg prometheus.Registerer) (*wanRedis, error) {
	u, err := url.Parse(redisURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", envRedisURL, err)
	}
	proxy, err := wan.ProxyTCP(region, catalog.Primary, u.Host, listen)
	if err != nil {
		return nil, fmt.Errorf("redis across the wan: %w", err)
	}
	u.Host = proxy.Addr()
	dir, closeDir, err := openRedisDirectory(u.String(), os.Getenv(envRedisReplicaURL), rediscache.DefaultBytesEachConn, logger, reg)
	if err != nil {
		proxy.Close()
		return nil, err
	}
	return &wanRedis{Dir: dir, Proxy: proxy.Addr(), close: func() { closeDir(); proxy.Close() }}, nil
}

// Close closes the directory, then the proxy.
func (w *wanRedis) Close() { w.close() }
