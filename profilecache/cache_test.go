package profilecache_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/profilecache"
)

// fakeClock is an injected clock that only moves when told.
type fakeClock = testclock.Clock

func newClock() *fakeClock { return testclock.New(time.Unix(1_700_000_000, 0)) }

// testKey is the sealing key of every test cache with Redis that names no
// other key.
var testKey = []byte("profilecache test key, 32 bytes!")

// MustNew builds a Cache and closes it when the test ends. Zero sizes, TTL
// and timeouts in cfg take profilecache.DefaultConfig's (tests of a written
// zero call profilecache.New); a cache with Redis and no Keys seals with
// testKey.
func MustNew(tb testing.TB, cfg profilecache.Config) *profilecache.Cache {
	tb.Helper()
	def := profilecache.DefaultConfig()
	if cfg.LocalSize == 0 {
		cfg.LocalSize = def.LocalSize
	}
	for _, f := range []struct{ v, d *time.Duration }{
		{&cfg.LocalTTL, &def.LocalTTL}, {&cfg.Redis.DialTimeout, &def.Redis.DialTimeout},
		{&cfg.Redis.ReadTimeout, &def.Redis.ReadTimeout}, {&cfg.Redis.WriteTimeout, &def.Redis.WriteTimeout},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	if cfg.Redis.KeyPrefix == "" {
		cfg.Redis.KeyPrefix = def.Redis.KeyPrefix
	}
	if len(cfg.Redis.Addrs) > 0 && cfg.Keys == nil {
		cfg.Keys = [][]byte{testKey}
	}
	c, err := profilecache.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// MustGet reads key and fails on an error or an unexpected presence.
func MustGet(tb testing.TB, c *profilecache.Cache, key string, wantOK bool) []byte {
	tb.Helper()
	v, ok, err := c.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get(%q): %v", key, err)
	}
	if ok != wantOK {
		tb.Fatalf("Get(%q) found = %v, want %v", key, ok, wantOK)
	}
	return v
}

// MustSet stores key and fails on an error.
func MustSet(tb testing.TB, c *profilecache.Cache, key, value string, ttl time.Duration) {
	tb.Helper()
	if err := c.Set(context.Background(), key, []byte(value), ttl); err != nil {
		tb.Fatalf("Set(%q): %v", key, err)
	}
}

func redisConfig(addrs ...string) profilecache.RedisConfig {
	return profilecache.RedisConfig{Addrs: addrs}
}

func TestNewValidates(t *testing.T) {
	keys := [][]byte{testKey}
	bad := []struct {
		name string
		cfg  profilecache.Config
	}{
		{"local size below -1", profilecache.Config{LocalSize: -2}},
		{"no layer at all", profilecache.Config{LocalSize: -1}},
		{"negative local ttl", profilecache.Config{LocalTTL: -time.Second}},
		{"empty addr", profilecache.Config{Redis: redisConfig("127.0.0.1:1", ""), Keys: keys}},
		{"master without sentinels", profilecache.Config{Redis: profilecache.RedisConfig{MasterName: "m"}, Keys: keys}},
		{"db in cluster mode", profilecache.Config{Redis: profilecache.RedisConfig{Addrs: []string{"a:1", "b:1"}, DB: 1}, Keys: keys}},
		{"negative db", profilecache.Config{Redis: profilecache.RedisConfig{Addrs: []string{"a:1"}, DB: -1}, Keys: keys}},
		{"negative read timeout", profilecache.Config{Redis: profilecache.RedisConfig{Addrs: []string{"a:1"}, ReadTimeout: -1}, Keys: keys}},
		{"redis without keys", profilecache.Config{Redis: redisConfig("127.0.0.1:1")}},
		{"short key", profilecache.Config{Redis: redisConfig("127.0.0.1:1"), Keys: [][]byte{[]byte("too short")}}},
		{"short previous key", profilecache.Config{Redis: redisConfig("127.0.0.1:1"), Keys: [][]byte{testKey, {}}}},
		{"zero local size without redis", profilecache.Config{LocalSize: 0}},
		{"zero redis timeout", func() profilecache.Config {
			c := profilecache.DefaultConfig()
			c.Redis.Addrs, c.Keys, c.Redis.ReadTimeout = []string{"a:1"}, keys, 0
			return c
		}()},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := profilecache.New(tc.cfg); err == nil {
				c.Close()
				t.Fatal("New succeeded, want error")
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		MustNew(t, profilecache.Config{Registerer: reg})
		cfg := profilecache.DefaultConfig()
		cfg.Registerer = reg
		if _, err := profilecache.New(cfg); err == nil {
			t.Fatal("second New on one registry succeeded")
		}
	})
}

func TestInProcess(t *testing.T) {
	clock := newClock()
	reg := prometheus.NewRegistry()
	c := MustNew(t, profilecache.Config{LocalSize: 2, LocalTTL: time.Hour, Now: clock.Now, Registerer: reg})
	ctx := context.Background()

	t.Run("miss then hit", func(t *testing.T) {
		MustGet(t, c, "a", false)
		MustSet(t, c, "a", "1", time.Minute)
		if got := MustGet(t, c, "a", true); string(got) != "1" {
			t.Fatalf("Get(a) = %q", got)
		}
	})
	t.Run("expires by the injected clock", func(t *testing.T) {
		MustSet(t, c, "b", "2", time.Minute)
		clock.Advance(59 * time.Second)
		MustGet(t, c, "b", true)
		clock.Advance(time.Second)
		MustGet(t, c, "b", false)
	})
	t.Run("bounded by LocalSize", func(t *testing.T) {
		for i := range 3 {
			MustSet(t, c, "lru"+strconv.Itoa(i), "v", time.Minute)
		}
		MustGet(t, c, "lru0", false)
		MustGet(t, c, "lru2", true)
	})
	t.Run("non-positive ttl refused", func(t *testing.T) {
		if err := c.Set(ctx, "z", []byte("v"), 0); err == nil {
			t.Fatal("Set with ttl 0 succeeded")
		}
	})
	t.Run("ping without redis", func(t *testing.T) {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	for result, want := range map[string]float64{"miss": 3, "hit_local": 3, "hit_redis": 0, "error": 0} {
		if got := promtest.Value(t, reg, "idgate_profilecache_gets_total", "result", result); got != want {
			t.Errorf("gets_total{result=%q} = %v, want %v", result, got, want)
		}
	}
}

func TestRedisShared(t *testing.T) {
	srv := redistest.Start(t)
	regB := prometheus.NewRegistry()
	a := MustNew(t, profilecache.Config{Redis: redisConfig(srv.Addr())})
	b := MustNew(t, profilecache.Config{Redis: redisConfig(srv.Addr()), Registerer: regB})
	if err := a.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	MustGet(t, b, "k", false)
	MustSet(t, a, "k", "shared", time.Minute)
	if got := MustGet(t, b, "k", true); string(got) != "shared" {
		t.Fatalf("b.Get(k) = %q, want a's value", got)
	}
	MustGet(t, b, "k", true)

	if got, _ := redistest.Do(srv.Addr(), "GET", "idgate:k"); len(got) != 1 || got[0] == "" || strings.Contains(got[0], "shared") {
		t.Fatalf("redis GET idgate:k = %q, want the prefixed key holding a sealed value", got)
	}
	for result, want := range map[string]float64{"miss": 1, "hit_redis": 1, "hit_local": 1, "invalid": 0, "error": 0} {
		if got := promtest.Value(t, regB, "idgate_profilecache_gets_total", "result", result); got != want {
			t.Errorf("b gets_total{result=%q} = %v, want %v", result, got, want)
		}
	}
}

func TestRedisTTL(t *testing.T) {
	srv := redistest.Start(t)
	clock := newClock()
	a := MustNew(t, profilecache.Config{Redis: redisConfig(srv.Addr())})
	b := MustNew(t, profilecache.Config{Redis: redisConfig(srv.Addr()), Now: clock.Now})

	MustSet(t, a, "short", "v", 200*time.Millisecond)
	pttl, err := redistest.Do(srv.Addr(), "PTTL", "idgate:short")
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := strconv.Atoi(pttl[0]); ms <= 0 || ms > 200 {
		t.Fatalf("PTTL = %s ms, want SET PX 200", pttl[0])
	}
	MustGet(t, b, "short", true) // now held locally for at most the remaining PTTL

	// Redis expires by wall time: wait for the key to be gone there.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for {
		got, err := redistest.Do(srv.Addr(), "EXISTS", "idgate:short")
		if err == nil && got[0] == "0" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("key still in Redis after 3s")
		case <-time.After(20 * time.Millisecond):
		}
	}
	MustGet(t, b, "short", true) // b's clock has not moved: local copy serves
	clock.Advance(200 * time.Millisecond)
	MustGet(t, b, "short", false)
}

func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	c := MustNew(t, profilecache.Config{Redis: redisConfig(srv.Addr())})
	ctx := context.Background()
	MustSet(t, c, "before", "v", time.Minute)

	srv.Kill()
	t.Run("local keeps serving", func(t *testing.T) {
		MustGet(t, c, "before", true)
	})
	t.Run("errors come back within the timeouts", func(t *testing.T) {
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"get", func() error { _, _, err := c.Get(ctx, "unknown"); return err }},
			{"set", func() error { return c.Set(ctx, "during", []byte("v"), time.Minute) }},
			{"ping", func() error { return c.Ping(ctx) }},
		} {
			start := time.Now()
			err := op.do()
			if err == nil {
				t.Fatalf("%s with Redis down succeeded", op.name)
			}
			if d := time.Since(start); d > 200*time.Millisecond {
				t.Fatalf("%s took %v with Redis down", op.name, d)
			}
		}
		MustGet(t, c, "during", true) // Set failed in Redis but is held locally
	})

	srv.Restart()
	t.Run("recovers without a new client", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for c.Ping(ctx) != nil {
			select {
			case <-ctx.Done():
				t.Fatal("Ping still failing 5s after restart")
			case <-time.After(20 * time.Millisecond):
			}
		}
		MustSet(t, c, "after", "v2", time.Minute)
		other := MustNew(t, profilecache.Config{Redis: redisConfig(srv.Addr())})
		if got := MustGet(t, other, "after", true); string(got) != "v2" {
			t.Fatalf("after restart Get = %q", got)
		}
	})
}

func TestRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	a := MustNew(t, profilecache.Config{Redis: redisConfig(cl.Addrs()...)})
	b := MustNew(t, profilecache.Config{Redis: redisConfig(cl.Addrs()...)})
	if err := a.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	const n = 30
	for i := range n {
		MustSet(t, a, fmt.Sprintf("user-%d", i), strconv.Itoa(i), time.Minute)
	}
	for i := range n {
		if got := MustGet(t, b, fmt.Sprintf("user-%d", i), true); string(got) != strconv.Itoa(i) {
			t.Fatalf("user-%d = %q", i, got)
		}
	}
	used := 0
	for _, addr := range cl.Addrs() {
		if got, err := redistest.Do(addr, "DBSIZE"); err == nil && got[0] != "0" {
			used++
		}
	}
	if used < 2 {
		t.Fatalf("keys on %d of 3 nodes, want them spread over the cluster", used)
	}
}

func TestRedisSentinel(t *testing.T) {
	s := redistest.StartSentinel(t)
	c := MustNew(t, profilecache.Config{Redis: profilecache.RedisConfig{
		Addrs: s.Addrs(), MasterName: s.MasterName,
		// Sentinel discovery adds round trips before the first command.
		DialTimeout: time.Second, ReadTimeout: time.Second,
	}})
	MustSet(t, c, "k", "via-sentinel", time.Minute)
	if got, err := redistest.Do(s.Master.Addr(), "EXISTS", "idgate:k"); err != nil || got[0] != "1" {
		t.Fatalf("master EXISTS = %q, %v", got, err)
	}
}

// TestEmptyKeyPrefix: a key prefix written as "" is no prefix, not the
// default one (the session store sharing this Redis reads it the same way).
func TestEmptyKeyPrefix(t *testing.T) {
	srv := redistest.Start(t)
	cfg := profilecache.DefaultConfig()
	cfg.Redis.Addrs, cfg.Redis.KeyPrefix, cfg.Keys = []string{srv.Addr()}, "", [][]byte{testKey}
	c, err := profilecache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	MustSet(t, c, "k", "v", time.Minute)
	if got, err := redistest.Do(srv.Addr(), "EXISTS", "k"); err != nil || got[0] != "1" {
		t.Fatalf("EXISTS k = %v, %v; want the key without a prefix", got, err)
	}
}
