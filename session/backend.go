package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/redis/go-redis/v9"
)

// backend holds sealed values by key. A missing key reads as nil, nil.
type backend interface {
	get(ctx context.Context, key string) ([]byte, error)
	// set stores val; with onlyIfPresent it does nothing for a missing key
	// and reports false.
	set(ctx context.Context, key string, val []byte, ttl time.Duration, onlyIfPresent bool) (bool, error)
	// swap replaces old with val, only if the key still holds old.
	swap(ctx context.Context, key string, old, val []byte, ttl time.Duration) error
	del(ctx context.Context, key string) error
}

// redisBackend keeps values in Redis, each call bounded by timeout.
type redisBackend struct {
	c       redis.UniversalClient
	timeout time.Duration
}

// swapScript sets KEYS[1] to ARGV[2] (PX ARGV[3]) only if it holds ARGV[1].
var swapScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false`)

func (r *redisBackend) call(ctx context.Context, op, key string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := f(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("session: redis %s: %w", op, err)
	}
	return nil
}

func (r *redisBackend) get(ctx context.Context, key string) (b []byte, err error) {
	err = r.call(ctx, "get", key, func(ctx context.Context) error {
		b, err = r.c.Get(ctx, key).Bytes()
		return err
	})
	return b, err
}

func (r *redisBackend) set(ctx context.Context, key string, val []byte, ttl time.Duration, onlyIfPresent bool) (ok bool, err error) {
	err = r.call(ctx, "set", key, func(ctx context.Context) error {
		args := redis.SetArgs{TTL: ttl}
		if onlyIfPresent {
			args.Mode = "XX"
		}
		res, err := r.c.SetArgs(ctx, key, val, args).Result()
		ok = err == nil && res == "OK"
		return err
	})
	return ok, err
}

func (r *redisBackend) swap(ctx context.Context, key string, old, val []byte, ttl time.Duration) error {
	return r.call(ctx, "swap", key, func(ctx context.Context) error {
		return swapScript.Run(ctx, r.c, []string{key}, old, val, ttl.Milliseconds()).Err()
	})
}

func (r *redisBackend) del(ctx context.Context, key string) error {
	return r.call(ctx, "del", key, func(ctx context.Context) error {
		return r.c.Del(ctx, key).Err()
	})
}

// localBackend is a bounded in-process LRU with per-entry expiry. It holds
// sessions only: login states travel sealed in cookies, so a flood of
// anonymous login attempts writes nothing here.
type localBackend struct {
	now func() time.Time

	mu  sync.Mutex
	lru *simplelru.LRU[string, localEntry]
}

type localEntry struct {
	val     []byte
	expires time.Time
}

func newLocalBackend(max int, now func() time.Time) (*localBackend, error) {
	lru, err := simplelru.NewLRU[string, localEntry](max, nil)
	if err != nil {
		return nil, fmt.Errorf("session: max_local: %w", err)
	}
	return &localBackend{now: now, lru: lru}, nil
}

// lookupLocked returns a live entry, dropping an expired one.
func (l *localBackend) lookupLocked(key string) (localEntry, bool) {
	e, ok := l.lru.Get(key)
	if ok && !l.now().Before(e.expires) {
		l.lru.Remove(key)
		return localEntry{}, false
	}
	return e, ok
}

func (l *localBackend) get(_ context.Context, key string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, _ := l.lookupLocked(key)
	return e.val, nil
}

func (l *localBackend) set(_ context.Context, key string, val []byte, ttl time.Duration, onlyIfPresent bool) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.lookupLocked(key); onlyIfPresent && !ok {
		return false, nil
	}
	l.lru.Add(key, localEntry{val: bytes.Clone(val), expires: l.now().Add(ttl)})
	return true, nil
}

func (l *localBackend) swap(_ context.Context, key string, old, val []byte, ttl time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.lookupLocked(key); ok && bytes.Equal(e.val, old) {
		l.lru.Add(key, localEntry{val: bytes.Clone(val), expires: l.now().Add(ttl)})
	}
	return nil
}

func (l *localBackend) del(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lru.Remove(key)
	return nil
}
