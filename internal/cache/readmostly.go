package cache

import (
	"maps"
	"sync"
	"sync/atomic"
)

// ReadMostly is a small bounded map for values looked up on every request
// and added rarely (a metric counter per label set, a shared protobuf
// value per route, a removal list per set of emitted headers). A read
// takes no lock: an addition copies the map and swaps it in. Past max
// entries, values are built and returned but no longer kept.
type ReadMostly[K comparable, V any] struct {
	max int
	mu  sync.Mutex // serialises additions
	m   atomic.Pointer[map[K]V]
}

// NewReadMostly returns an empty ReadMostly holding at most max entries.
func NewReadMostly[K comparable, V any](max int) *ReadMostly[K, V] {
	return &ReadMostly[K, V]{max: max}
}

// Get returns the value kept under k.
func (c *ReadMostly[K, V]) Get(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// GetOrAdd returns the value kept under k, or else build()'s, which it
// keeps while under the bound. build runs outside any lock; when two
// callers race, the first value kept wins and both return it.
func (c *ReadMostly[K, V]) GetOrAdd(k K, build func() V) V {
	if v, ok := c.Get(k); ok {
		return v
	}
	v := build()
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if prev, ok := (*old)[k]; ok {
			return prev
		}
		if len(*old) >= c.max {
			return v
		}
	}
	next := make(map[K]V, 8)
	if old != nil {
		maps.Copy(next, *old)
	}
	next[k] = v
	c.m.Store(&next)
	return v
}

// Len is the number of entries kept.
func (c *ReadMostly[K, V]) Len() int {
	if m := c.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}
