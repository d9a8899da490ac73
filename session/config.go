package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoSession means the cookie names no usable session: a bad signature, an
// unknown or deleted id, an expired or idle session, or a value that does not
// decode.
var ErrNoSession = errors.New("session: no session")

// ErrNoState means a sealed login state does not open: forged, made with a
// retired key, malformed or expired.
var ErrNoState = errors.New("session: no login state")

// minKeyLen is the shortest accepted session key.
const minKeyLen = 32

// Config configures a Store.
type Config struct {
	// Redis holds sessions and state shared by every idgate replica. Nil
	// means a bounded in-process store (the embedded default), which loses
	// everything on restart.
	Redis redis.UniversalClient
	// KeyPrefix starts every Redis key: "<prefix>session:<id-hash>"; empty
	// is no prefix. ["idgate:"]
	KeyPrefix string
	// Keys are the session keys, each at least 32 bytes. Keys[0] signs and
	// encrypts; the others are still accepted on read so keys can rotate.
	// Required.
	Keys [][]byte
	// TTL is the absolute life of a session; must be positive. [12h]
	TTL time.Duration
	// IdleTTL ends a session unused this long; 0 means no idle limit.
	IdleTTL time.Duration
	// StateTTL is the life of a sealed login state (one authorization round
	// trip); must be positive. [10m]
	StateTTL time.Duration
	// MaxLocal bounds the in-process session store; must be positive.
	// [10000]
	MaxLocal int
	// Timeout bounds each Redis call; must be positive. [100ms]
	Timeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns the default of every setting; Keys, Redis and Now
// are the caller's. idgate's configuration starts from it, so these
// defaults have one owner.
func DefaultConfig() Config {
	return Config{
		KeyPrefix: "idgate:",
		TTL:       12 * time.Hour,
		StateTTL:  10 * time.Minute,
		MaxLocal:  10000,
		Timeout:   100 * time.Millisecond,
	}
}

// setDefaults fills in the clock; a setting is taken as written (start
// from [DefaultConfig]).
func (cfg *Config) setDefaults() {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

func (cfg *Config) validate() error {
	if len(cfg.Keys) == 0 {
		return errors.New("session: keys: at least one key required")
	}
	for i, k := range cfg.Keys {
		if len(k) < minKeyLen {
			return fmt.Errorf("session: keys[%d]: %d bytes, at least %d required", i, len(k), minKeyLen)
		}
	}
	switch {
	case cfg.TTL <= 0:
		return errors.New("session: ttl: must be positive")
	case cfg.IdleTTL < 0:
		return errors.New("session: idle_ttl: must not be negative")
	case cfg.StateTTL <= 0:
		return errors.New("session: state_ttl: must be positive")
	case cfg.MaxLocal <= 0:
		return errors.New("session: max_local: must be positive")
	case cfg.Timeout <= 0:
		return errors.New("session: timeout: must be positive")
	}
	return nil
}
