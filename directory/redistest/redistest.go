// Package redistest connects tests to the real Redis at REDIS_URL (default
// redis://127.0.0.1:6379). A test that cannot reach it fails when CI=true and
// is skipped otherwise; it never passes silently.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"go.uber.org/goleak"

	"courtmesh/directory"
)

// DefaultURL is the Redis tests use when REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379"

// Bounds of the key cleanup of Prefix.
const (
	cleanupTimeout = 5 * time.Second
	cleanupRounds  = 1000 // SCAN calls
	scanCount      = 1000 // keys hinted per SCAN call
)

// URL returns REDIS_URL, or DefaultURL when it is unset.
func URL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Client returns a client of the Redis at URL configured as production
// configures it (directory.ClientOption: client-side caching on, in a
// rediscache store), closed when t ends. When Redis is unreachable the test
// fails if CI=true and is skipped otherwise.
func Client(t testing.TB) rueidis.Client {
	t.Helper()
	return ClientOf(t, func(*rueidis.ClientOption) {})
}

// ClientOf is Client with its options changed by edit before it dials.
func ClientOf(t testing.TB, edit func(*rueidis.ClientOption)) rueidis.Client {
	t.Helper()
	c, err := dial(edit)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: redis unreachable with CI=true: %v", err)
		}
		t.Skipf("redistest: redis unreachable (set REDIS_URL): %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Prefix returns a key prefix unique to t ("test:<random hex>:"). When t ends,
// the keys under it are deleted through a client of its own, so cleanup order
// against Client does not matter.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		if err := deleteKeys(prefix); err != nil {
			t.Logf("redistest: delete keys under %s: %v", prefix, err)
		}
	})
	return prefix
}

// IgnoreDialRetry is the goleak option a TestMain needs when its tests may
// skip on an unreachable Redis: a failed rueidis dial leaves a goroutine
// sleeping about a second before it retries.
//
//	goleak.VerifyTestMain(m, redistest.IgnoreDialRetry())
func IgnoreDialRetry() goleak.Option {
	return goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1")
}

// dial connects to URL with the options edit leaves.
func dial(edit func(*rueidis.ClientOption)) (rueidis.Client, error) {
	opt, err := directory.ClientOption(URL())
	if err != nil {
		return nil, err
	}
	edit(&opt)
	return rueidis.NewClient(opt)
}

// deleteKeys deletes the keys under prefix, in bounded SCAN rounds.
func deleteKeys(prefix string) error {
	c, err := dial(func(o *rueidis.ClientOption) { o.DisableCache = true })
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var cursor uint64
	for range cleanupRounds {
		cmd := c.B().Scan().Cursor(cursor).Match(prefix + "*").Count(scanCount).Build()
		entry, err := c.Do(ctx, cmd).AsScanEntry()
		if err != nil {
			return err
		}
		if len(entry.Elements) > 0 {
			if err := c.Do(ctx, c.B().Del().Key(entry.Elements...).Build()).Error(); err != nil {
				return err
			}
		}
		if cursor = entry.Cursor; cursor == 0 {
			return nil
		}
	}
	return nil
}
