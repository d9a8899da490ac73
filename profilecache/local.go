package profilecache

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// local is the bounded in-process layer: an LRU whose entries also expire.
// A nil *local is a disabled layer that holds nothing.
type local struct {
	lru *lru.Cache[string, localEntry]
}

type localEntry struct {
	value   []byte
	expires time.Time
}

// newLocal returns an LRU of size entries, or nil when size is -1.
func newLocal(size int) (*local, error) {
	if size < 0 {
		return nil, nil
	}
	c, err := lru.New[string, localEntry](size)
	if err != nil {
		return nil, err
	}
	return &local{lru: c}, nil
}

// get returns the live value for key, dropping it once expired.
func (l *local) get(key string, now time.Time) ([]byte, bool) {
	if l == nil {
		return nil, false
	}
	e, ok := l.lru.Get(key)
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		// A concurrent set of a fresh value may be dropped here too; that
		// costs one extra Redis read, never a stale answer.
		l.lru.Remove(key)
		return nil, false
	}
	return e.value, true
}

// set stores value until expires.
func (l *local) set(key string, value []byte, expires time.Time) {
	if l == nil {
		return
	}
	l.lru.Add(key, localEntry{value: value, expires: expires})
}

// len is the number of entries held, expired ones included.
func (l *local) len() int {
	if l == nil {
		return 0
	}
	return l.lru.Len()
}
