package profilecache_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/profilecache"
)

// reader is a fresh replica over srv: an empty in-process layer, so every
// Get reads Redis, with its own metrics and log.
type reader struct {
	c   *profilecache.Cache
	reg *prometheus.Registry
	log *testlog.Buffer
}

func newReader(t *testing.T, addr string, keys ...[]byte) reader {
	t.Helper()
	r := reader{reg: prometheus.NewRegistry(), log: &testlog.Buffer{}}
	r.c = MustNew(t, profilecache.Config{Redis: redisConfig(addr), Keys: keys, Registerer: r.reg,
		Logger: slog.New(slog.NewTextHandler(r.log, nil))})
	return r
}

// mustRaw returns the raw Redis value under key.
func mustRaw(t *testing.T, addr, key string) string {
	t.Helper()
	got, err := redistest.Do(addr, "GET", key)
	if err != nil || len(got) != 1 || got[0] == "" {
		t.Fatalf("redis GET %s = %q, %v", key, got, err)
	}
	return got[0]
}

// mustPut writes a raw value into Redis, as an attacker with Redis access
// would.
func mustPut(t *testing.T, addr, key, value string) {
	t.Helper()
	if _, err := redistest.Do(addr, "SET", key, value, "PX", "600000"); err != nil {
		t.Fatalf("redis SET %s: %v", key, err)
	}
}

// TestSealedRedis holds the identity path "profile read back from Redis":
// whoever can write to Redis controls the bytes under every key, and none of
// what they write is served.
func TestSealedRedis(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr()
	writer := MustNew(t, profilecache.Config{Redis: redisConfig(addr)})
	const profile = `{"groups":["admins"]}`

	t.Run("a forged plaintext entry is an invalid miss, logged", func(t *testing.T) {
		mustPut(t, addr, "idgate:userinfo:forged", "\x01"+profile)
		r := newReader(t, addr, testKey)
		MustGet(t, r.c, "userinfo:forged", false)
		MustGet(t, r.c, "userinfo:forged", false)
		if got := promtest.Value(t, r.reg, "idgate_profilecache_gets_total", "result", "invalid"); got != 2 {
			t.Fatalf("gets_total{invalid} = %v, want 2", got)
		}
		logs := r.log.String()
		if n := strings.Count(logs, "does not open"); n != 1 {
			t.Fatalf("%d log lines for 2 invalid values, want 1 (rate-limited):\n%s", n, logs)
		}
		if !strings.Contains(logs, "idgate:userinfo:forged") || strings.Contains(logs, "admins") {
			t.Fatalf("log must name the key and never the value:\n%s", logs)
		}
	})
	t.Run("the sealed value carries no plaintext", func(t *testing.T) {
		MustSet(t, writer, "userinfo:plain", profile, time.Minute)
		if raw := mustRaw(t, addr, "idgate:userinfo:plain"); strings.Contains(raw, "admins") {
			t.Fatalf("Redis holds the plaintext: %q", raw)
		}
	})
	t.Run("a tampered ciphertext does not open", func(t *testing.T) {
		MustSet(t, writer, "userinfo:tampered", profile, time.Minute)
		raw := []byte(mustRaw(t, addr, "idgate:userinfo:tampered"))
		for _, i := range []int{0, 1, 5, len(raw) / 2, len(raw) - 1} {
			forged := bytes.Clone(raw)
			forged[i] ^= 0x01
			mustPut(t, addr, "idgate:userinfo:tampered", string(forged))
			r := newReader(t, addr, testKey)
			MustGet(t, r.c, "userinfo:tampered", false)
			if got := promtest.Value(t, r.reg, "idgate_profilecache_gets_total", "result", "invalid"); got != 1 {
				t.Fatalf("byte %d flipped: gets_total{invalid} = %v, want 1", i, got)
			}
		}
		mustPut(t, addr, "idgate:userinfo:tampered", string(raw[:len(raw)-1]))
		MustGet(t, newReader(t, addr, testKey).c, "userinfo:tampered", false)
	})
	t.Run("an entry moved to another key does not open", func(t *testing.T) {
		MustSet(t, writer, "userinfo:admin", profile, time.Minute)
		MustSet(t, writer, "userinfo:nobody", `{}`, time.Minute)
		mustPut(t, addr, "idgate:userinfo:nobody", mustRaw(t, addr, "idgate:userinfo:admin"))
		r := newReader(t, addr, testKey)
		MustGet(t, r.c, "userinfo:nobody", false)
		if got := MustGet(t, r.c, "userinfo:admin", true); string(got) != profile {
			t.Fatalf("the original still opens under its own key: got %q", got)
		}
	})
	t.Run("the key prefix is part of what is bound", func(t *testing.T) {
		MustSet(t, writer, "userinfo:prefixed", profile, time.Minute)
		mustPut(t, addr, "other:userinfo:prefixed", mustRaw(t, addr, "idgate:userinfo:prefixed"))
		other := MustNew(t, profilecache.Config{Redis: profilecache.RedisConfig{Addrs: []string{addr}, KeyPrefix: "other:"}})
		MustGet(t, other, "userinfo:prefixed", false)
	})
}

func TestSealKeyRotation(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr()
	oldKey := testKey
	newKey := []byte("profilecache rotated key, 32 b!!")

	before := newReader(t, addr, oldKey)
	MustSet(t, before.c, "userinfo:a", "written-with-old", time.Minute)

	t.Run("the new key reads what the previous key wrote", func(t *testing.T) {
		during := newReader(t, addr, newKey, oldKey)
		if got := MustGet(t, during.c, "userinfo:a", true); string(got) != "written-with-old" {
			t.Fatalf("Get = %q", got)
		}
	})
	t.Run("the new key seals; a replica still on the old key misses", func(t *testing.T) {
		during := newReader(t, addr, newKey, oldKey)
		MustSet(t, during.c, "userinfo:b", "written-with-new", time.Minute)
		stale := newReader(t, addr, oldKey)
		MustGet(t, stale.c, "userinfo:b", false)
		if got := promtest.Value(t, stale.reg, "idgate_profilecache_gets_total", "result", "invalid"); got != 1 {
			t.Fatalf("gets_total{invalid} = %v, want 1", got)
		}
	})
	t.Run("once the previous key is dropped its entries are misses", func(t *testing.T) {
		after := newReader(t, addr, newKey)
		MustGet(t, after.c, "userinfo:a", false)
		if got := MustGet(t, after.c, "userinfo:b", true); string(got) != "written-with-new" {
			t.Fatalf("Get = %q", got)
		}
	})
}

// TestLocalTTLWithoutRedis: without Redis nothing needs converging, so an
// entry lives the TTL it was stored with, not LocalTTL.
func TestLocalTTLWithoutRedis(t *testing.T) {
	clock := newClock()
	c := MustNew(t, profilecache.Config{Now: clock.Now})
	MustSet(t, c, "profile", "v", 10*time.Minute)
	clock.Advance(9*time.Minute + 59*time.Second)
	MustGet(t, c, "profile", true)
	clock.Advance(time.Second)
	MustGet(t, c, "profile", false)
}

// TestZeroTakenAsWritten: with Redis, local_size 0 and local_ttl 0 keep
// nothing in-process (every Get reads Redis); they are not replaced by the
// defaults.
func TestZeroTakenAsWritten(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name string
		edit func(*profilecache.Config)
	}{
		{"local_size 0", func(c *profilecache.Config) { c.LocalSize = 0 }},
		{"local_ttl 0", func(c *profilecache.Config) { c.LocalTTL = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := profilecache.DefaultConfig()
			cfg.Redis.Addrs, cfg.Keys = []string{srv.Addr()}, [][]byte{testKey}
			tc.edit(&cfg)
			c, err := profilecache.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			MustSet(t, c, "zero", "v", time.Minute)
			if _, err := redistest.Do(srv.Addr(), "DEL", "idgate:zero"); err != nil {
				t.Fatal(err)
			}
			MustGet(t, c, "zero", false)
		})
	}
}
