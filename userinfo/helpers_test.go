package userinfo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/userinfo"
)

const (
	testIssuer  = "https://issuer.example"
	testSubject = "248289761001"
	testToken   = "access-token-for-tests"
)

// fakeClock is an injected clock that only moves when told.
type fakeClock = testclock.Clock

func newClock() *fakeClock { return testclock.New(time.Unix(1_700_000_000, 0)) }

// memCache is an in-memory userinfo.Cache that ignores TTLs (the resolver
// must enforce Entry.Expires itself) and records what it was asked.
type memCache struct {
	mu      sync.Mutex
	values  map[string][]byte
	lastTTL time.Duration
	sets    int
	tries   int // Set calls, failed ones included
	// fail makes every Get and Set return an error.
	fail bool
	// block makes Get wait for its context to end.
	block bool
}

func newMemCache() *memCache { return &memCache{values: map[string][]byte{}} }

func (m *memCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	fail, block := m.fail, m.block
	v, ok := m.values[key]
	m.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, false, ctx.Err()
	}
	if fail {
		return nil, false, errors.New("memcache: down")
	}
	return v, ok, nil
}

func (m *memCache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tries++
	if m.fail {
		return errors.New("memcache: down")
	}
	m.values[key] = value
	m.lastTTL = ttl
	m.sets++
	return nil
}

func (m *memCache) snapshot() (ttl time.Duration, sets, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastTTL, m.sets, len(m.values)
}

// idp is a real userinfo endpoint served by httptest that counts its calls
// and answers with respond (which may be swapped between calls).
type idp struct {
	*httptest.Server
	calls   atomic.Int64
	mu      sync.Mutex
	respond http.HandlerFunc
}

// newIDP serves userinfo; requests without the test token or Accept header
// get 401 so that a test notices.
func newIDP(tb testing.TB, respond http.HandlerFunc) *idp {
	tb.Helper()
	p := &idp{respond: respond}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer "+testToken ||
			r.Header.Get("Accept") != "application/json" {
			http.Error(w, "bad request shape", http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		h := p.respond
		p.mu.Unlock()
		h(w, r)
	}))
	tb.Cleanup(p.Close)
	return p
}

func (p *idp) set(h http.HandlerFunc) {
	p.mu.Lock()
	p.respond = h
	p.mu.Unlock()
}

// jsonProfile answers with v as application/json.
func jsonProfile(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(v)
	}
}

// janeProfile is a full userinfo answer for testSubject.
var janeProfile = map[string]any{
	"sub": testSubject, "email": "jane@example.com", "email_verified": true,
	"name": "Jane Doe", "given_name": "Jane", "family_name": "Doe",
	"preferred_username": "jane", "groups": []string{"ml-platform", "flyte-admins"},
}

// MustNew builds a Resolver against p with a fresh registry and closes it
// when the test ends. Zero TTLs and body limit in cfg take
// userinfo.DefaultConfig's (tests of a written zero call userinfo.New).
func MustNew(tb testing.TB, cfg userinfo.Config, p *idp, cache userinfo.Cache) (*userinfo.Resolver, *prometheus.Registry) {
	tb.Helper()
	def := userinfo.DefaultConfig()
	for _, f := range []struct{ v, d *time.Duration }{{&cfg.ProfileTTL, &def.ProfileTTL}, {&cfg.NegativeTTL, &def.NegativeTTL}} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if cfg.Endpoint == nil {
		cfg.Endpoint = func(iss string) string {
			if iss == testIssuer {
				return p.URL + "/userinfo"
			}
			return ""
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second // generous: a loaded 2-core CI machine
	}
	r, err := userinfo.New(cfg, cache)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(r.Close)
	return r, reg
}

// tokenIdentity is a verified identity whose token carries only sub.
func tokenIdentity(exp time.Time) *identity.Identity {
	return &identity.Identity{Issuer: testIssuer, Subject: testSubject, ExpiresAt: exp}
}
