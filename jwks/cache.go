package jwks

import (
	"maps"
	"time"
	"unsafe"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/cache"
)

// cacheEntry is a verified token's identity and what it was verified with.
type cacheEntry struct {
	id  identity.Identity
	exp time.Time
	is  *issuer
	ks  *keySet
	kid string
}

// tokenBytesPerEntry is the average size budget of a cached identity: the
// cache holds at most TokenCacheSize entries and at most TokenCacheSize
// times this many bytes, so identities with hundreds of groups make it hold
// fewer rather than grow past its share of memory. A typical entry is
// about 0.7 KB.
const tokenBytesPerEntry = 4 << 10

// tokenCache maps sha256(token) to its verified identity, bounded in
// entries and bytes; expired entries are evicted first.
type tokenCache struct {
	c *cache.Cache[[32]byte, *cacheEntry]
}

func newTokenCache(max int, now func() time.Time) *tokenCache {
	return &tokenCache{c: cache.New[[32]byte](
		cache.Config{MaxEntries: max, MaxBytes: int64(max) * tokenBytesPerEntry},
		func(e *cacheEntry) bool { return !now().Before(e.exp) },
	)}
}

// get returns the identity cached for key when the token has not reached
// exp and its issuer's current keys still hold the kid that verified it.
func (c *tokenCache) get(key *[32]byte, now time.Time) (identity.Identity, bool) {
	e, _ := c.c.Get(*key)
	if e == nil {
		return identity.Identity{}, false
	}
	if !now.Before(e.exp) || !e.stillKeyed(now) {
		c.c.DeleteIf(*key, func(cur *cacheEntry) bool { return cur == e })
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
	if !now.Before(e.exp) {
		return
	}
	c.c.Put(key, e, e.size())
}

// size estimates the memory an entry holds: the structs, the map slot and
// the strings the identity references.
func (e *cacheEntry) size() int {
	id := &e.id
	n := int(unsafe.Sizeof(*e)) + 32 + 16 + len(e.kid)
	for _, s := range [...]string{id.Issuer, id.Subject, id.Email, id.Name, id.GivenName, id.FamilyName,
		id.PreferredUsername, id.UserClaim, id.KeyID, id.Degraded, id.EmailRefused} {
		n += len(s)
	}
	for _, list := range [...][]string{id.Audience, id.Groups} {
		for _, s := range list {
			n += 16 + len(s)
		}
	}
	for k, v := range id.Extra {
		n += 48 + len(k) + len(v)
	}
	return n
}

func (c *tokenCache) len() int { return c.c.Len() }
