package profilecache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/idgate/idgate/internal/faultlog"
)

// Cache is a two-level cache of opaque values: a bounded in-process LRU and,
// when configured, Redis. It is safe for concurrent use. Values returned by
// Get are shared with the cache and must not be modified.
type Cache struct {
	cfg        Config
	local      *local
	rdb        redis.UniversalClient // nil: in-process only
	getTimeout time.Duration
	setTimeout time.Duration
	metrics    *metrics
	sealer     *sealer           // nil: in-process only
	unsealed   invalidLog        // rate-limits the log of values that do not open
	faults     *faultlog.Tracker // logs Redis failing and recovering; nil without Redis
}

// New validates cfg and returns a Cache. It does not contact Redis: the
// client connects on first use and reconnects by itself; use Ping to check.
func New(cfg Config) (*Cache, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l, err := newLocal(cfg.LocalSize)
	if err != nil {
		return nil, fmt.Errorf("profilecache: local_size: %w", err)
	}
	r := cfg.Redis
	c := &Cache{
		cfg:        cfg,
		local:      l,
		getTimeout: r.DialTimeout + r.ReadTimeout,
		setTimeout: r.DialTimeout + r.WriteTimeout + r.ReadTimeout,
	}
	c.metrics, err = newMetrics(cfg.Registerer, func() float64 { return float64(c.local.len()) })
	if err != nil {
		return nil, err
	}
	if len(r.Addrs) > 0 {
		if c.sealer, err = newSealer(cfg.Keys); err != nil {
			return nil, err
		}
		c.rdb = redis.NewUniversalClient(redisOptions(r))
		addrs := strings.Join(r.Addrs, ",")
		c.faults = faultlog.New(faultlog.Config{
			Logger: cfg.Logger, Now: cfg.Now,
			FailMessage:      "profilecache: redis failing; profiles come from the in-process cache and userinfo",
			RecoveredMessage: "profilecache: redis at " + addrs + " answering",
			Attrs:            []any{"redis_addrs", addrs},
		})
	}
	return c, nil
}

// redisOptions maps RedisConfig onto go-redis. Retries and dial retries are
// kept to one quick attempt so a Redis outage costs at most the configured
// timeouts; go-redis reconnects in the background.
func redisOptions(r RedisConfig) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                 r.Addrs,
		MasterName:            r.MasterName,
		Username:              r.Username,
		Password:              r.Password,
		SentinelUsername:      r.Username,
		SentinelPassword:      r.Password,
		DB:                    r.DB,
		DialTimeout:           r.DialTimeout,
		ReadTimeout:           r.ReadTimeout,
		WriteTimeout:          r.WriteTimeout,
		PoolTimeout:           r.DialTimeout + r.ReadTimeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
		MinRetryBackoff:       time.Millisecond,
		MaxRetryBackoff:       5 * time.Millisecond,
		DialerRetries:         1,
		TLSConfig:             r.TLS,
		DisableIdentity:       true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
}

// Get returns the value stored under key. A miss is (nil, false, nil). A
// Redis failure is returned as an error after at most
// DialTimeout+ReadTimeout; the in-process layer is consulted first and keeps
// serving while Redis is away. A Redis value that does not open with
// Config.Keys (forged, tampered with, moved from another key, or sealed with
// a retired key) is a miss, counted as result "invalid" and logged.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	now := c.cfg.Now()
	if v, ok := c.local.get(key, now); ok {
		c.metrics.get[resultHitLocal].Inc()
		return v, true, nil
	}
	if c.rdb == nil {
		c.metrics.get[resultMiss].Inc()
		return nil, false, nil
	}
	redisKey := c.cfg.Redis.KeyPrefix + key
	sealed, ttl, err := c.redisGet(ctx, redisKey)
	c.record(ctx, err)
	switch {
	case err != nil:
		c.metrics.get[resultError].Inc()
		return nil, false, err
	case sealed == nil:
		c.metrics.get[resultMiss].Inc()
		return nil, false, nil
	}
	v, err := c.sealer.open(redisKey, sealed)
	if err != nil {
		c.metrics.get[resultInvalid].Inc()
		c.unsealed.report(c.cfg.Logger, now, redisKey)
		return nil, false, nil
	}
	c.metrics.get[resultHitRedis].Inc()
	if ttl > 0 {
		c.local.set(key, v, now.Add(min(ttl, c.cfg.LocalTTL)))
	}
	return v, true, nil
}

// redisGet reads a value and its remaining TTL in one round trip. A missing
// key is a nil value and no error.
func (c *Cache) redisGet(ctx context.Context, key string) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.getTimeout)
	defer cancel()
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		pttl = p.PTTL(ctx, key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("profilecache: redis get: %w", err)
	}
	v, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("profilecache: redis get: %w", err)
	}
	switch ttl := pttl.Val(); {
	case ttl > 0:
		return v, ttl, nil
	case ttl == -1:
		// A key without expiry was not written by Set; keep it briefly.
		return v, c.cfg.LocalTTL, nil
	default:
		// Expired between GET and PTTL: serve it this once, keep nothing.
		return v, 0, nil
	}
}

// Set stores value under key for ttl, in-process and in Redis (SET PX). The
// cache keeps value: the caller must not modify it afterwards. A Redis
// failure is returned as an error, but the in-process layer holds the value
// regardless.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("profilecache: set: ttl must be positive")
	}
	ttl = max(ttl, time.Millisecond) // Redis PX has millisecond precision.
	if c.rdb == nil {
		// Nothing to converge with: the entry lives its whole TTL.
		c.local.set(key, value, c.cfg.Now().Add(ttl))
		c.metrics.set[resultOK].Inc()
		return nil
	}
	c.local.set(key, value, c.cfg.Now().Add(min(ttl, c.cfg.LocalTTL)))
	setCtx, cancel := context.WithTimeout(ctx, c.setTimeout)
	defer cancel()
	redisKey := c.cfg.Redis.KeyPrefix + key
	err := c.rdb.Set(setCtx, redisKey, c.sealer.seal(redisKey, value), ttl).Err()
	c.record(ctx, err)
	if err != nil {
		c.metrics.set[resultError].Inc()
		return fmt.Errorf("profilecache: redis set: %w", err)
	}
	c.metrics.set[resultOK].Inc()
	return nil
}

// record reports a Redis round trip's outcome to the fault log. A call
// whose caller's context ended (the caller gave up, not Redis) says nothing
// about Redis.
func (c *Cache) record(ctx context.Context, err error) {
	switch {
	case err == nil:
		c.faults.OK()
	case ctx.Err() == nil:
		c.faults.Fail(err)
	}
}

// Ping checks that Redis answers; it returns nil for an in-process cache.
func (c *Cache) Ping(ctx context.Context) error {
	if c.rdb == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.getTimeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("profilecache: redis ping: %w", err)
	}
	return nil
}

// Close releases the Redis connections. The Cache must not be used after.
func (c *Cache) Close() error {
	if c.rdb == nil {
		return nil
	}
	if err := c.rdb.Close(); err != nil {
		return fmt.Errorf("profilecache: close: %w", err)
	}
	return nil
}

// Redis returns the shared Redis client (nil when in-process only), so the
// login session store can use the same connection pool and settings.
func (c *Cache) Redis() redis.UniversalClient { return c.rdb }
