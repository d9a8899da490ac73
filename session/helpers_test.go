package session

import (
	"bytes"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testclock"
)

// clock is a settable test clock.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// MustStore builds a Store or fails the test.
func MustStore(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := New(withDefaults(cfg))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// MustRedis starts a redis-server and returns it with a client.
func MustRedis(tb testing.TB) (*redistest.Server, *redis.Client) {
	tb.Helper()
	srv := redistest.Start(tb)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	tb.Cleanup(func() { _ = c.Close() })
	return srv, c
}

// MustCreate stores a sample session and returns its cookie.
func MustCreate(tb testing.TB, s *Store, sess *Session) string {
	tb.Helper()
	c, err := s.Create(tb.Context(), sess)
	if err != nil {
		tb.Fatalf("Create: %v", err)
	}
	return c
}

func sampleSession() *Session {
	return &Session{
		Issuer:  "https://idp.example",
		Subject: "alice",
		Identity: identity.Identity{
			Issuer: "https://idp.example", Subject: "alice", Email: "alice@example.com",
			Groups: []string{"admins"}, Source: identity.SourceSession,
		},
		AccessToken:  "access-token-SECRET-a",
		RefreshToken: "refresh-token-SECRET-r",
		IDToken:      "id-token-SECRET-i",
		AccessExpiry: time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC),
	}
}

// backends runs f once against the in-process store and once against Redis.
func backends(t *testing.T, cfg Config, f func(t *testing.T, s *Store, clk *clock)) {
	t.Helper()
	for _, name := range []string{"local", "redis"} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			c := cfg
			c.Now = clk.Now
			if c.Keys == nil {
				c.Keys = [][]byte{key(1)}
			}
			if name == "redis" {
				_, c.Redis = MustRedis(t)
			}
			f(t, MustStore(t, c), clk)
		})
	}
}

// withDefaults fills the settings cfg leaves zero from DefaultConfig, so a
// test names only what it is about.
func withDefaults(cfg Config) Config {
	d := DefaultConfig()
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = d.KeyPrefix
	}
	if cfg.TTL == 0 {
		cfg.TTL = d.TTL
	}
	if cfg.StateTTL == 0 {
		cfg.StateTTL = d.StateTTL
	}
	if cfg.MaxLocal == 0 {
		cfg.MaxLocal = d.MaxLocal
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = d.Timeout
	}
	return cfg
}
