package profilecache_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/profilecache"
)

// TestLease: one holder at a time; the release deletes only the holder's own
// lease; a lease nobody releases frees itself after its TTL; the lease key
// holds a random token under the prefix, nothing else; without Redis the
// cache says it has no one to share a lease with.
func TestLease(t *testing.T) {
	srv := redistest.Start(t)
	newCache := func() *profilecache.Cache {
		cfg := profilecache.DefaultConfig()
		cfg.Redis.Addrs, cfg.Keys = []string{srv.Addr()}, [][]byte{testKey}
		c, err := profilecache.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a, b := newCache(), newCache()
	ctx := context.Background()

	t.Run("one holder at a time", func(t *testing.T) {
		release, won, err := a.Lease(ctx, "k1", time.Minute)
		if err != nil || !won {
			t.Fatalf("first Lease: won=%v err=%v", won, err)
		}
		if _, won, err := b.Lease(ctx, "k1", time.Minute); err != nil || won {
			t.Fatalf("second Lease while held: won=%v err=%v", won, err)
		}
		got, err := redistest.Do(srv.Addr(), "GET", "idgate:lease:k1")
		if err != nil || len(got) != 1 || len(got[0]) != 32 || strings.Contains(got[0], "k1") {
			t.Fatalf("lease value = %q, %v; want a 32-hex-digit token", got, err)
		}
		if err := release(ctx); err != nil {
			t.Fatal(err)
		}
		if _, won, err := b.Lease(ctx, "k1", time.Minute); err != nil || !won {
			t.Fatalf("Lease after release: won=%v err=%v", won, err)
		}
	})
	t.Run("a late release spares the next holder", func(t *testing.T) {
		release, won, err := a.Lease(ctx, "k2", time.Minute)
		if err != nil || !won {
			t.Fatalf("Lease: won=%v err=%v", won, err)
		}
		// The lease ran out and another replica took it.
		if _, err := redistest.Do(srv.Addr(), "SET", "idgate:lease:k2", "someone-else", "PX", "60000"); err != nil {
			t.Fatal(err)
		}
		if err := release(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := redistest.Do(srv.Addr(), "GET", "idgate:lease:k2"); err != nil || len(got) != 1 || got[0] != "someone-else" {
			t.Fatalf("the other holder's lease = %q, %v; want kept", got, err)
		}
	})
	t.Run("an unreleased lease expires", func(t *testing.T) {
		if _, won, err := a.Lease(ctx, "k3", 300*time.Millisecond); err != nil || !won {
			t.Fatalf("Lease: won=%v err=%v", won, err)
		}
		got, err := redistest.Do(srv.Addr(), "PTTL", "idgate:lease:k3")
		if err != nil || len(got) != 1 {
			t.Fatalf("PTTL = %q, %v", got, err)
		}
		if ms, err := strconv.Atoi(got[0]); err != nil || ms <= 0 || ms > 300 {
			t.Fatalf("PTTL = %q, want within (0, 300] ms: a dead holder frees the subject by itself", got[0])
		}
	})
	t.Run("no redis", func(t *testing.T) {
		c, err := profilecache.New(profilecache.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, won, err := c.Lease(ctx, "k", time.Minute); won || !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Lease without Redis: won=%v err=%v, want ErrUnsupported", won, err)
		}
	})
	t.Run("redis down", func(t *testing.T) {
		srv.Kill()
		if _, won, err := a.Lease(ctx, "k4", time.Minute); won || err == nil || errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Lease with Redis down: won=%v err=%v, want a Redis error", won, err)
		}
	})
}

// TestLeaseTopologies: the lease is one key (SET NX PX, a one-key script to
// release), so it behaves alike on a Redis Cluster and behind Sentinel: one
// holder at a time, released by its holder only.
func TestLeaseTopologies(t *testing.T) {
	cases := []struct {
		name  string
		redis func(t *testing.T) profilecache.RedisConfig
	}{
		{"cluster", func(t *testing.T) profilecache.RedisConfig {
			return redisConfig(redistest.StartCluster(t).Addrs()...)
		}},
		{"sentinel", func(t *testing.T) profilecache.RedisConfig {
			s := redistest.StartSentinel(t)
			// Sentinel discovery adds round trips before the first command.
			return profilecache.RedisConfig{Addrs: s.Addrs(), MasterName: s.MasterName,
				DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := tc.redis(t)
			a := MustNew(t, profilecache.Config{Redis: rc})
			b := MustNew(t, profilecache.Config{Redis: rc})
			ctx := context.Background()
			for _, key := range []string{"userinfo:1", "userinfo:2", "userinfo:3"} { // spread over slots
				release, won, err := a.Lease(ctx, key, time.Minute)
				if err != nil || !won {
					t.Fatalf("%s: a.Lease: won=%v err=%v", key, won, err)
				}
				if _, won, err := b.Lease(ctx, key, time.Minute); err != nil || won {
					t.Fatalf("%s: b.Lease while a holds it: won=%v err=%v", key, won, err)
				}
				if err := release(ctx); err != nil {
					t.Fatalf("%s: release: %v", key, err)
				}
				if _, won, err := b.Lease(ctx, key, time.Minute); err != nil || !won {
					t.Fatalf("%s: b.Lease after release: won=%v err=%v", key, won, err)
				}
			}
		})
	}
}

// TestLeaseReleaseTimeoutIsARedisFault: a release that Redis does not
// answer within its bound is a Redis fault, logged like a failed Get (the
// bound running out is not the caller giving up).
func TestLeaseReleaseTimeoutIsARedisFault(t *testing.T) {
	rds := redistest.Start(t)
	var logs testlog.Buffer
	c := MustNew(t, profilecache.Config{
		// The release's bound (dial+write+read) runs out during go-redis's
		// retry after the first read timeout.
		Redis: profilecache.RedisConfig{Addrs: []string{rds.Addr()},
			DialTimeout: 5 * time.Millisecond, WriteTimeout: 5 * time.Millisecond, ReadTimeout: 200 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	release, won, err := c.Lease(ctx, "k", time.Minute)
	if err != nil || !won {
		t.Fatalf("Lease: won=%v err=%v", won, err)
	}
	if _, err := redistest.Do(rds.Addr(), "CLIENT", "PAUSE", "1000", "ALL"); err != nil {
		t.Fatal(err)
	}
	if err := release(ctx); err == nil {
		t.Fatal("release succeeded while Redis was paused")
	}
	if !strings.Contains(logs.String(), `msg="profilecache: redis failing`) {
		t.Fatalf("a release Redis did not answer logged no fault:\n%s", logs.String())
	}
}
