package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/directory"
	"courtmesh/directory/rediscache"
	"courtmesh/home"
	"courtmesh/home/store"
)

// openDirectory connects the directory to REDIS_URL. With REDIS_URL unset it
// returns the embedded in-memory stand-in when allowEmbedded is true (dev
// mode only), and an error otherwise.
func openDirectory(allowEmbedded bool) (dir directory.Store, embedded bool, closeFn func(), err error) {
	url := os.Getenv(envRedisURL)
	if url == "" {
		if !allowEmbedded {
			return nil, false, nil, errors.New(envRedisURL + " is not set")
		}
		return directory.NewMemory(), true, func() {}, nil
	}
	d, closeFn, err := openRedisDirectory(url, "", rediscache.DefaultBytesEachConn, nil, nil)
	return d, false, closeFn, err
}

// openEdgeDirectory is openDirectory for an edge: with REDIS_REPLICA_URL
// set, its lookups read the regional replica there (docs/ownership.md),
// logging to logger and exporting on reg when they move off it; its
// client-side caches hold edgeCacheBytesEachConn a connection.
func openEdgeDirectory(logger *slog.Logger, reg prometheus.Registerer) (directory.Store, func(), error) {
	url := os.Getenv(envRedisURL)
	if url == "" {
		return nil, nil, errors.New(envRedisURL + " is not set")
	}
	return openRedisDirectory(url, os.Getenv(envRedisReplicaURL), edgeCacheBytesEachConn, logger, reg)
}

// openRedisDirectory connects a directory to the Redis primary at url and,
// when replicaURL is set, reads it from the replica there once it answers
// (an unreachable replica is no error; a malformed URL is), logging to
// logger and exporting on reg when reads move off the replica
// (directory.RedisConfig); each client's cache holds at most cacheBytes a
// connection.
func openRedisDirectory(url, replicaURL string, cacheBytes int, logger *slog.Logger, reg prometheus.Registerer) (directory.Store, func(), error) {
	client, err := directory.DialCache(url, cacheBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("connect redis: %w", err)
	}
	cfg := directory.RedisConfig{Client: client, Prefix: redisPrefix(), Logger: logger, Registerer: reg}
	closeFn := client.Close
	if replicaURL != "" {
		if cfg.Replica, err = directory.DialReplica(replicaURL, cacheBytes); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("%s: %w", envRedisReplicaURL, err)
		}
		closeFn = func() { cfg.Replica.Close(); client.Close() }
	}
	d, err := directory.NewRedis(cfg)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return d, closeFn, nil
}

// openPool connects to DATABASE_URL; nil when it is unset.
func openPool(ctx context.Context) (*pgxpool.Pool, error) {
	url := os.Getenv(envDatabaseURL)
	if url == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	return pool, nil
}

// requirePool is openPool for a command that cannot run without
// DATABASE_URL: unset is a usage error saying why it is needed.
func requirePool(ctx context.Context, why string) (*pgxpool.Pool, error) {
	pool, err := openPool(ctx)
	if err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, usagef("%s is not set%s", envDatabaseURL, why)
	}
	return pool, nil
}

// openStore returns the session store on pool, or the embedded in-memory
// stand-in when pool is nil and allowEmbedded is true (dev mode only).
func openStore(pool *pgxpool.Pool, allowEmbedded bool, logger *slog.Logger) (home.Store, error) {
	if pool == nil {
		if !allowEmbedded {
			return nil, errors.New(envDatabaseURL + " is not set")
		}
		return store.NewMemory(), nil
	}
	return store.New(store.Config{DB: pool, Logger: logger})
}

// newLogger returns the process logger: JSON lines on stderr.
func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
