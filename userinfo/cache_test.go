package userinfo_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/userinfo"
)

func TestNegativeCacheExpires(t *testing.T) {
	clock := newClock()
	p := newIDP(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	cache := newMemCache()
	res, _ := MustNew(t, userinfo.Config{NegativeTTL: 30 * time.Second, Now: clock.Now}, p, cache)
	enrich := func() string {
		return res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken)
	}

	if got := enrich(); got != userinfo.ReasonStatus {
		t.Fatalf("first call: degraded %q", got)
	}
	// The lookup stores its answer after handing it to the waiters.
	wait.For(t, "the entry stored", func() bool { _, sets, _ := cache.snapshot(); return sets == 1 })
	if ttl, _, _ := cache.snapshot(); ttl != 30*time.Second {
		t.Fatalf("negative entry stored for %v, want NegativeTTL", ttl)
	}
	clock.Advance(29 * time.Second)
	if got := enrich(); got != userinfo.ReasonStatus || p.calls.Load() != 1 {
		t.Fatalf("within NegativeTTL: degraded %q, calls %d; want remembered, 1 call", got, p.calls.Load())
	}
	clock.Advance(time.Second)
	p.set(jsonProfile(janeProfile)) // the IdP is back
	id := tokenIdentity(time.Time{})
	if got := res.Enrich(context.Background(), id, testToken); got != "" || id.Email == "" {
		t.Fatalf("after NegativeTTL: degraded %q, email %q", got, id.Email)
	}
	if got := p.calls.Load(); got != 2 {
		t.Fatalf("userinfo calls = %d, want 2", got)
	}
}

func TestProfileTTLBoundedByTokenExpiry(t *testing.T) {
	cases := []struct {
		name     string
		tokenTTL time.Duration // 0: the token has no exp
		wantTTL  time.Duration
	}{
		{"token outlives ProfileTTL", time.Hour, 10 * time.Minute},
		{"token expires first", 2 * time.Minute, 2 * time.Minute},
		{"no exp", 0, 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			p := newIDP(t, jsonProfile(janeProfile))
			cache := newMemCache()
			res, _ := MustNew(t, userinfo.Config{ProfileTTL: 10 * time.Minute, Now: clock.Now}, p, cache)
			var exp time.Time
			if tc.tokenTTL > 0 {
				exp = clock.Now().Add(tc.tokenTTL)
			}
			res.Enrich(context.Background(), tokenIdentity(exp), testToken)
			wait.For(t, "the entry stored", func() bool { _, sets, _ := cache.snapshot(); return sets == 1 })
			if ttl, _, _ := cache.snapshot(); ttl != tc.wantTTL {
				t.Fatalf("profile stored for %v, want %v", ttl, tc.wantTTL)
			}
			// Served from the cache until then; fetched again at expiry.
			clock.Advance(tc.wantTTL - time.Second)
			res.Enrich(context.Background(), tokenIdentity(exp), testToken)
			if got := p.calls.Load(); got != 1 {
				t.Fatalf("before expiry: userinfo calls = %d, want 1", got)
			}
			clock.Advance(time.Second)
			id := tokenIdentity(clock.Now().Add(time.Hour)) // a fresh token
			if got := res.Enrich(context.Background(), id, testToken); got != "" || id.Email == "" {
				t.Fatalf("after expiry: degraded %q, email %q", got, id.Email)
			}
			if got := p.calls.Load(); got != 2 {
				t.Fatalf("after expiry: userinfo calls = %d, want 2", got)
			}
		})
	}
}

func TestCacheFailuresAreSoft(t *testing.T) {
	t.Run("failing cache: userinfo still answers, errors counted", func(t *testing.T) {
		p := newIDP(t, jsonProfile(janeProfile))
		cache := newMemCache()
		cache.fail = true
		res, reg := MustNew(t, userinfo.Config{}, p, cache)
		id := tokenIdentity(time.Time{})
		if got := res.Enrich(context.Background(), id, testToken); got != "" || id.Email == "" {
			t.Fatalf("degraded %q, email %q; want enriched despite the cache", got, id.Email)
		}
		wait.For(t, "the store tried", func() bool { cache.mu.Lock(); defer cache.mu.Unlock(); return cache.tries == 1 })
		if got := promtest.Value(t, reg, "idgate_userinfo_requests_total", "result", "ok"); got != 1 {
			t.Fatalf("requests_total{result=ok} = %v, want 1", got)
		}
	})
	t.Run("hanging cache: bounded by Timeout", func(t *testing.T) {
		p := newIDP(t, jsonProfile(janeProfile))
		cache := newMemCache()
		cache.block = true
		const timeout = 80 * time.Millisecond
		res, _ := MustNew(t, userinfo.Config{Timeout: timeout}, p, cache)
		start := time.Now()
		if got := res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken); got != userinfo.ReasonCacheError {
			t.Fatalf("degraded %q, want %q", got, userinfo.ReasonCacheError)
		}
		if d := time.Since(start); d > timeout+100*time.Millisecond {
			t.Fatalf("Enrich took %v with Timeout %v", d, timeout)
		}
	})
	t.Run("garbage in the cache is a miss and gets overwritten", func(t *testing.T) {
		p := newIDP(t, jsonProfile(janeProfile))
		cache := newMemCache()
		res, reg := MustNew(t, userinfo.Config{}, p, cache)
		res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken)
		wait.For(t, "the entry stored", func() bool { _, sets, _ := cache.snapshot(); return sets == 1 })
		cache.mu.Lock()
		var key string
		for k := range cache.values {
			key = k
			cache.values[k] = []byte("\x03{\"future\":true}")
		}
		cache.mu.Unlock()

		id := tokenIdentity(time.Time{})
		if got := res.Enrich(context.Background(), id, testToken); got != "" || id.Email == "" {
			t.Fatalf("degraded %q, email %q", got, id.Email)
		}
		wait.For(t, "the second store", func() bool { _, sets, _ := cache.snapshot(); return sets == 2 })
		cache.mu.Lock()
		v := cache.values[key]
		cache.mu.Unlock()
		if len(v) == 0 || v[0] != 2 {
			t.Fatalf("cache value %q not overwritten with a version 2 entry", v)
		}
		if got := promtest.Value(t, reg, "idgate_userinfo_cache_invalid_total"); got != 2 {
			t.Fatalf("cache_invalid_total = %v, want 2 (caller and lookup)", got)
		}
	})
}

func TestClose(t *testing.T) {
	p := newIDP(t, jsonProfile(janeProfile))
	res, _ := MustNew(t, userinfo.Config{}, p, newMemCache())
	res.Close()
	if got := res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken); got != userinfo.ReasonError {
		t.Fatalf("after Close: degraded %q, want %q", got, userinfo.ReasonError)
	}
	if p.calls.Load() != 0 {
		t.Fatal("userinfo called after Close")
	}
}

// TestResolversShareRedis runs two resolvers, as two idgate replicas would,
// each with its own profilecache over one real Redis: the second finds the
// profile the first fetched.
func TestResolversShareRedis(t *testing.T) {
	srv := redistest.Start(t)
	p := newIDP(t, jsonProfile(janeProfile))
	replica := func() *userinfo.Resolver { return newFleetReplica(t, srv.Addr(), p, 0).res }
	a, b := replica(), replica()

	if got := a.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken); got != "" {
		t.Fatalf("replica a: degraded %q", got)
	}
	a.Close() // waits for the store to Redis
	id := tokenIdentity(time.Time{})
	if got := b.Enrich(context.Background(), id, testToken); got != "" || id.Email != "jane@example.com" {
		t.Fatalf("replica b: degraded %q, email %q", got, id.Email)
	}
	if got := p.calls.Load(); got != 1 {
		t.Fatalf("userinfo calls = %d, want 1 across both replicas", got)
	}
}

// replicaKey seals the profiles the test replicas share through Redis.
var replicaKey = []byte("userinfo test replicas' key, 32b")

// TestForgedRedisProfileGrantsNothing holds the identity path "profile from
// Redis": an attacker who can write to Redis replaces a user's cached
// profile with one naming them an admin, in the format idgate writes (a
// version byte and JSON), under the right key and with a long TTL. The next
// replica must not serve it: it is a miss, userinfo is asked again, and only
// the IdP's groups reach the identity.
func TestForgedRedisProfileGrantsNothing(t *testing.T) {
	srv := redistest.Start(t)
	p := newIDP(t, jsonProfile(janeProfile))
	replica := func() *userinfo.Resolver { return newFleetReplica(t, srv.Addr(), p, 0).res }
	a := replica()
	if got := a.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken); got != "" {
		t.Fatalf("replica a: degraded %q", got)
	}
	a.Close() // waits for the store to Redis
	keys, err := redistest.Do(srv.Addr(), "KEYS", "idgate:userinfo:*")
	if err != nil || len(keys) != 1 {
		t.Fatalf("KEYS = %q, %v; want the one profile", keys, err)
	}
	forged := fmt.Sprintf("\x01"+`{"p":{"sub":%q,"email":"jane@example.com","groups":["cluster-admins"]},"e":%d}`,
		testSubject, time.Now().Add(time.Hour).UnixMilli())
	if _, err := redistest.Do(srv.Addr(), "SET", keys[0], forged, "PX", "3600000"); err != nil {
		t.Fatal(err)
	}

	id := tokenIdentity(time.Time{})
	if got := replica().Enrich(context.Background(), id, testToken); got != "" {
		t.Fatalf("replica b: degraded %q", got)
	}
	if slices.Contains(id.Groups, "cluster-admins") || !slices.Contains(id.Groups, "ml-platform") {
		t.Fatalf("groups = %q, want the IdP's, never the forged ones", id.Groups)
	}
	if got := p.calls.Load(); got != 2 {
		t.Fatalf("userinfo calls = %d, want 2 (the forged entry is a miss)", got)
	}
}

// TestZeroTTLCachesNothing: a TTL written as 0 (cache.profile_ttl: 0,
// cache.negative_ttl: 0) reaches the resolver as 0: every Enrich asks
// userinfo, and nothing is stored.
func TestZeroTTLCachesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		respond http.HandlerFunc
	}{
		{"profile_ttl 0", jsonProfile(janeProfile)},
		{"negative_ttl 0", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIDP(t, tc.respond)
			cache := newMemCache()
			cfg := userinfo.DefaultConfig()
			cfg.ProfileTTL, cfg.NegativeTTL, cfg.Timeout = 0, 0, 2*time.Second
			cfg.Endpoint = func(string) string { return p.URL + "/userinfo" }
			res, err := userinfo.New(cfg, cache)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(res.Close)
			for range 3 {
				res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken)
			}
			if got := p.calls.Load(); got != 3 {
				t.Fatalf("userinfo calls = %d, want 3 (nothing cached)", got)
			}
			cache.mu.Lock()
			defer cache.mu.Unlock()
			if len(cache.values) != 0 {
				t.Fatalf("cache holds %d entries, want none", len(cache.values))
			}
		})
	}
}

// TestNegativeEntriesSealedInRedis: a remembered failure goes to Redis
// sealed like a profile (no readable reason), and another replica with the
// key reads it back as a failure without calling userinfo.
func TestNegativeEntriesSealedInRedis(t *testing.T) {
	srv := redistest.Start(t)
	p := newIDP(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	replica := func() *userinfo.Resolver { return newFleetReplica(t, srv.Addr(), p, 0).res }
	a := replica()
	reason := a.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken)
	if reason == "" {
		t.Fatal("replica a: enrichment succeeded against a failing IdP")
	}
	a.Close() // waits for the store to Redis
	keys, err := redistest.Do(srv.Addr(), "KEYS", "idgate:userinfo:*")
	if err != nil || len(keys) != 1 {
		t.Fatalf("KEYS = %q, %v; want the one negative entry", keys, err)
	}
	raw, err := redistest.Do(srv.Addr(), "GET", keys[0])
	if err != nil || len(raw) != 1 || strings.Contains(raw[0], reason) || strings.Contains(raw[0], `"n"`) {
		t.Fatalf("negative entry in Redis is not sealed: %q, %v", raw, err)
	}
	if got := replica().Enrich(context.Background(), tokenIdentity(time.Time{}), testToken); got != reason {
		t.Fatalf("replica b: degraded %q, want the remembered %q", got, reason)
	}
	if got := p.calls.Load(); got != 1 {
		t.Fatalf("userinfo calls = %d, want 1 (b reads the sealed negative entry)", got)
	}
}
