package session

import (
	"strings"
	"testing"
	"time"
)

// TestZeroMeansZero: a setting written as zero is taken as zero (an empty
// key prefix writes keys without one, as the profile cache does with
// redis.key_prefix: "") or refused naming it; it is never replaced by a
// default.
func TestZeroMeansZero(t *testing.T) {
	refused := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ttl", func(c *Config) { c.TTL = 0 }, "session: ttl: must be positive"},
		{"state_ttl", func(c *Config) { c.StateTTL = 0 }, "session: state_ttl: must be positive"},
		{"max_local", func(c *Config) { c.MaxLocal = 0 }, "session: max_local: must be positive"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "session: timeout: must be positive"},
	}
	for _, tc := range refused {
		t.Run(tc.name+" 0 refused", func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Keys = [][]byte{key(1)}
			tc.edit(&cfg)
			if _, err := New(cfg); err == nil || err.Error() != tc.want {
				t.Fatalf("New = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("empty key_prefix is no prefix", func(t *testing.T) {
		_, rc := MustRedis(t)
		cfg := DefaultConfig()
		cfg.Keys, cfg.Redis, cfg.KeyPrefix = [][]byte{key(1)}, rc, ""
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		MustCreate(t, s, sampleSession())
		keys, err := rc.Keys(t.Context(), "*").Result()
		if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], "session:") {
			t.Fatalf("keys = %v, %v; want one session:<hash>", keys, err)
		}
	})
}

func TestDefaultConfig(t *testing.T) {
	d := DefaultConfig()
	if d.KeyPrefix != "idgate:" || d.TTL != 12*time.Hour || d.StateTTL != 10*time.Minute || d.MaxLocal != 10000 || d.Timeout != 100*time.Millisecond {
		t.Fatalf("DefaultConfig() = %+v", d)
	}
}
