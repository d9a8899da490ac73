package jwks

import (
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/cache"
)

// tokenBytesPerEntry is the average size budget of a cached identity: the
// cache holds at most TokenCacheSize entries and at most TokenCacheSize
// times this many bytes, so identities with hundreds of groups make it hold
// fewer rather than grow past its share of memory. A typical entry is
// about 0.25 KB (see cacheEntry).
const tokenBytesPerEntry = 4 << 10

// tokenCache maps sha256(token) to its verified identity, bounded in
// entries and bytes; expired entries are evicted first.
type tokenCache struct {
	c *cache.Cache[[32]byte, *cacheEntry]
}

func newTokenCache(max int, now func() time.Time) *tokenCache {
	return &tokenCache{c: cache.New[[32]byte](
		cache.Config{MaxEntries: max, MaxBytes: int64(max) * tokenBytesPerEntry},
		func(e *cacheEntry) bool { return !now().Before(e.exp()) },
	)}
}

// get returns the identity cached for key when the token has not reached
// exp and its issuer's current keys still hold the kid that verified it.
func (c *tokenCache) get(key *[32]byte, now time.Time) (identity.Identity, bool) {
	e, _ := c.c.Get(*key)
	if e == nil {
		return identity.Identity{}, false
	}
	if !now.Before(e.exp()) || !e.stillKeyed(now) {
		c.c.DeleteIf(*key, func(cur *cacheEntry) bool { return cur == e })
		return identity.Identity{}, false
	}
	return e.identity(), true
}

// stillKeyed reports whether the key that verified e is still published.
// A key without kid is only trusted within the same fetched set.
func (e *cacheEntry) stillKeyed(now time.Time) bool {
	ks := e.is.current(now)
	if ks == nil {
		return false
	}
	return ks == e.ks || (e.kid != "" && ks.has(e.kid))
}

func (c *tokenCache) put(key [32]byte, e *cacheEntry, now time.Time) {
	if !now.Before(e.exp()) {
		return
	}
	c.c.Put(key, e, e.size())
}

func (c *tokenCache) len() int { return c.c.Len() }
