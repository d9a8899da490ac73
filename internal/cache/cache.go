package cache

import "sync"

// Config bounds a Cache.
type Config struct {
	// MaxEntries bounds the number of entries; 0 (or less) disables the
	// cache: Put stores nothing.
	MaxEntries int
	// MaxBytes bounds the sum of the sizes given to Put; 0 (or less) means
	// entries only. An entry larger than MaxBytes is not stored.
	MaxBytes int64
}

// Cache is a map bounded in entries and bytes. When a Put would exceed a
// bound it samples a few entries (map iteration starts at a random place),
// evicts the stale ones among them, or else one arbitrary entry, and
// repeats until the new entry fits.
//
// Random eviction rather than LRU: a hit takes only a read lock, so the
// warm Check on every core shares it; an LRU writes its list on every hit.
// The caches here hold what is cheap to rebuild (a verified token, a
// signature, an encoding), so a worse hit rate at the bound costs a little
// CPU, never a wrong answer.
type Cache[K comparable, V any] struct {
	cfg   Config
	stale func(V) bool

	mu    sync.RWMutex
	m     map[K]item[V]
	bytes int64
}

type item[V any] struct {
	v    V
	size int64
}

// evictSample is how many entries one eviction step looks at for stale ones.
const evictSample = 8

// New returns an empty Cache. stale, when not nil, marks entries to evict
// before any live one (an expired token); it is called under the cache's
// lock.
func New[K comparable, V any](cfg Config, stale func(V) bool) *Cache[K, V] {
	return &Cache[K, V]{cfg: cfg, stale: stale, m: make(map[K]item[V])}
}

// Get returns the value stored under k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	it, ok := c.m[k]
	c.mu.RUnlock()
	return it.v, ok
}

// Put stores v under k, size bytes (an estimate the caller makes once),
// evicting as needed. It reports whether v was stored.
func (c *Cache[K, V]) Put(k K, v V, size int) bool {
	if c.cfg.MaxEntries <= 0 || c.cfg.MaxBytes > 0 && int64(size) > c.cfg.MaxBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		c.bytes -= old.size
		delete(c.m, k)
	}
	for len(c.m) > 0 && (len(c.m) >= c.cfg.MaxEntries || c.cfg.MaxBytes > 0 && c.bytes+int64(size) > c.cfg.MaxBytes) {
		c.evictLocked()
	}
	c.m[k] = item[V]{v: v, size: int64(size)}
	c.bytes += int64(size)
	return true
}

// evictLocked removes the stale entries among a sample, or else the first
// entry sampled.
func (c *Cache[K, V]) evictLocked() {
	var victim K
	n, removed := 0, false
	for k, it := range c.m {
		if c.stale != nil && c.stale(it.v) {
			c.deleteLocked(k, it)
			removed = true
		} else if n == 0 {
			victim = k
		}
		if n++; n == evictSample {
			break
		}
	}
	if !removed {
		c.deleteLocked(victim, c.m[victim])
	}
}

func (c *Cache[K, V]) deleteLocked(k K, it item[V]) {
	delete(c.m, k)
	c.bytes -= it.size
}

// DeleteIf removes k when still is nil or reports true for the value
// stored under k, under the lock: a caller that found an entry stale
// removes it without removing a newer one stored meanwhile.
func (c *Cache[K, V]) DeleteIf(k K, still func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.m[k]; ok && (still == nil || still(it.v)) {
		c.deleteLocked(k, it)
	}
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// Bytes is the sum of the entries' sizes.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}
