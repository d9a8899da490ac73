package profilecache

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of [DefaultConfig].
const (
	DefaultLocalSize    = 10000
	DefaultLocalTTL     = time.Minute
	DefaultKeyPrefix    = "idgate:"
	DefaultRedisTimeout = 50 * time.Millisecond
)

// DefaultConfig returns the defaults: a 10000-entry in-process layer whose
// entries are re-read from Redis (when configured) after at most a minute,
// and 50ms Redis timeouts under the "idgate:" prefix.
func DefaultConfig() Config {
	return Config{
		LocalSize: DefaultLocalSize,
		LocalTTL:  DefaultLocalTTL,
		Redis: RedisConfig{
			KeyPrefix:    DefaultKeyPrefix,
			DialTimeout:  DefaultRedisTimeout,
			ReadTimeout:  DefaultRedisTimeout,
			WriteTimeout: DefaultRedisTimeout,
		},
	}
}

// RedisConfig says how to reach the shared Redis. An empty Addrs means no
// Redis: the cache is then in-process only.
type RedisConfig struct {
	// Addrs are host:port addresses: one is a standalone server, several are
	// cluster nodes, or, with MasterName, the sentinels.
	Addrs []string
	// MasterName selects sentinel mode: Addrs are then the sentinels and
	// MasterName the monitored master.
	MasterName string
	// Username and Password authenticate to Redis (ACL user or
	// requirepass); with MasterName they are also used for the sentinels.
	Username, Password string
	// DB is the database number; cluster mode supports only 0.
	DB int
	// KeyPrefix is prepended to every key; empty is no prefix, as for the
	// session store sharing this Redis. [DefaultKeyPrefix]
	KeyPrefix string
	// DialTimeout bounds opening a connection. Must be positive with Addrs.
	// Default 50ms.
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for a reply; a Get waits at most
	// DialTimeout+ReadTimeout in all. Must be positive with Addrs. Default
	// 50ms.
	ReadTimeout time.Duration
	// WriteTimeout bounds sending a command; a Set waits at most
	// DialTimeout+WriteTimeout+ReadTimeout in all. Must be positive with
	// Addrs. Default 50ms.
	WriteTimeout time.Duration
	// TLS, when not nil, is used for every Redis connection; nil is plain
	// TCP.
	TLS *tls.Config
}

// Config configures a Cache. Start from [DefaultConfig]: New takes every
// number as written.
type Config struct {
	// LocalSize bounds the in-process LRU (entries). 0 (or -1) disables the
	// in-process layer, which is only allowed with Redis. Default 10000.
	LocalSize int
	// LocalTTL caps how long an entry lives in-process when Redis is
	// configured, so that replicas converge on what Redis holds; 0 keeps
	// nothing in-process beside Redis. Without Redis an entry lives
	// in-process for the TTL it was stored with; with Redis it never
	// outlives that TTL either. Default 1m.
	LocalTTL time.Duration
	// Redis is the optional shared layer.
	Redis RedisConfig
	// Keys seal every value written to Redis (AES-256-GCM, bound to its
	// Redis key), so that whoever can write to Redis cannot forge, alter or
	// move an entry: such a value is a miss. Keys[0] seals; every key opens,
	// so keys can rotate. Each at least 32 bytes; required with Redis,
	// unused without.
	Keys [][]byte
	// Logger reports values that fail to open (rate-limited) and Redis
	// faults: one warning when Redis starts failing (with the error), one
	// when the cause changes (at most once a minute), one line when it
	// answers again. Default: discard.
	Logger *slog.Logger
	// Now is the clock for in-process expiry. Default time.Now.
	Now func() time.Time
	// Registerer receives the cache's metrics. Default: a private registry
	// (metrics are kept but not exported).
	Registerer prometheus.Registerer
}

// withDefaults validates cfg and fills what has no meaningful zero (clock,
// registry, logger); numbers are taken as written.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.LocalSize == 0 || cfg.LocalSize == -1:
		if len(cfg.Redis.Addrs) == 0 {
			return cfg, fmt.Errorf("profilecache: local_size: %d disables the only layer (no redis.addrs)", cfg.LocalSize)
		}
		cfg.LocalSize = -1
	case cfg.LocalSize < 0:
		return cfg, fmt.Errorf("profilecache: local_size: %d: must be positive, 0 or -1", cfg.LocalSize)
	}
	if cfg.LocalTTL < 0 {
		return cfg, errors.New("profilecache: local_ttl: must not be negative")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(cfg.Redis.Addrs) > 0 && len(cfg.Keys) == 0 {
		return cfg, errors.New("profilecache: keys: required with redis.addrs (values in Redis are sealed)")
	}
	r, err := cfg.Redis.withDefaults()
	cfg.Redis = r
	return cfg, err
}

// withDefaults validates the Redis settings and fills zero fields.
func (r RedisConfig) withDefaults() (RedisConfig, error) {
	for i, a := range r.Addrs {
		if a == "" {
			return r, fmt.Errorf("profilecache: redis.addrs[%d]: empty", i)
		}
	}
	if r.MasterName != "" && len(r.Addrs) == 0 {
		return r, errors.New("profilecache: redis.master_name: needs redis.addrs (the sentinels)")
	}
	if r.DB < 0 {
		return r, errors.New("profilecache: redis.db: must not be negative")
	}
	if r.DB != 0 && len(r.Addrs) > 1 && r.MasterName == "" {
		return r, errors.New("profilecache: redis.db: cluster mode supports only db 0")
	}
	for _, t := range []struct {
		name string
		d    *time.Duration
	}{
		{"dial_timeout", &r.DialTimeout},
		{"read_timeout", &r.ReadTimeout},
		{"write_timeout", &r.WriteTimeout},
	} {
		if *t.d < 0 || (*t.d == 0 && len(r.Addrs) > 0) {
			return r, fmt.Errorf("profilecache: redis.%s: must be positive", t.name)
		}
	}
	return r, nil
}
