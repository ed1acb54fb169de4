package rediscache

import "github.com/redis/rueidis"

// Entries is the number of entries of c, a store New made.
func Entries(c rueidis.CacheStore) int { return c.(*store).entries() }
