package jwks

import (
	"maps"
	"sync"
	"time"

	"github.com/idgate/idgate/identity"
)

// cacheEntry is a verified token's identity and what it was verified with.
type cacheEntry struct {
	id  identity.Identity
	exp time.Time
	is  *issuer
	ks  *keySet
	kid string
}

// tokenCache maps sha256(token) to its verified identity. It holds at most
// max entries, evicting expired entries first and otherwise an arbitrary one.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[[32]byte]*cacheEntry
	max int
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{m: make(map[[32]byte]*cacheEntry), max: max}
}

// get returns the identity cached for key when the token has not reached
// exp and its issuer's current keys still hold the kid that verified it.
func (c *tokenCache) get(key *[32]byte, now time.Time) (identity.Identity, bool) {
	c.mu.RLock()
	e := c.m[*key]
	c.mu.RUnlock()
	if e == nil {
		return identity.Identity{}, false
	}
	if !now.Before(e.exp) || !e.stillKeyed(now) {
		c.mu.Lock()
		if c.m[*key] == e {
			delete(c.m, *key)
		}
		c.mu.Unlock()
		return identity.Identity{}, false
	}
	id := e.id
	if id.Extra != nil {
		id.Extra = maps.Clone(id.Extra)
	}
	return id, true
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
	if c.max <= 0 || !now.Before(e.exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		c.evictLocked(now)
	}
	c.m[key] = e
}

// evictLocked removes expired entries among a few arbitrary ones (map
// iteration starts at a random place), or else one arbitrary entry.
func (c *tokenCache) evictLocked(now time.Time) {
	const sample = 8
	var victim [32]byte
	n, removed := 0, false
	for k, e := range c.m {
		if !now.Before(e.exp) {
			delete(c.m, k)
			removed = true
		} else if n == 0 {
			victim = k
		}
		if n++; n == sample {
			break
		}
	}
	if !removed {
		delete(c.m, victim)
	}
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
