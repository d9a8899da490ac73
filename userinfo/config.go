package userinfo

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of [DefaultConfig].
const (
	DefaultTimeout      = 150 * time.Millisecond
	DefaultProfileTTL   = 10 * time.Minute
	DefaultNegativeTTL  = 30 * time.Second
	DefaultMaxBodyBytes = 1 << 20
)

// Config configures a Resolver. Start from [DefaultConfig]: New takes every
// number as written, so a zero TTL caches nothing and a zero timeout or body
// limit is refused.
type Config struct {
	// Timeout bounds one Enrich call, cache and HTTP together, and also the
	// shared HTTP lookup. A cold lookup must fit in Envoy's ext_authz
	// timeout (200ms by default). Must be positive. Default 150ms.
	Timeout time.Duration
	// ProfileTTL is how long a profile is cached, with or without Redis; it
	// is further capped by the expiry of the token that fetched it. 0 caches
	// no profile. Default 10m.
	ProfileTTL time.Duration
	// NegativeTTL is how long a failed lookup is remembered, so that an IdP
	// outage does not turn into one request per caller. 0 remembers none.
	// Default 30s.
	NegativeTTL time.Duration
	// MaxBodyBytes bounds the userinfo response read. Must be positive.
	// Default 1 MiB.
	MaxBodyBytes int64
	// Endpoint returns the userinfo endpoint URL for an issuer, or "" for an
	// issuer that is not enriched. Required.
	Endpoint func(issuer string) string
	// HTTPClient makes the userinfo requests. Default: a client with its own
	// clone of http.DefaultTransport. Deadlines come from Timeout.
	HTTPClient *http.Client
	// Now is the clock for TTLs and cache expiry. Default time.Now.
	Now func() time.Time
	// Registerer receives the metrics. Default: a private registry (kept,
	// not exported).
	Registerer prometheus.Registerer
	// Logger receives each endpoint's faults (timeouts, transport errors,
	// 5xx and 429 answers, unreadable answers): one warning when lookups
	// start failing, one when the cause changes (at most once a minute),
	// one line when the endpoint answers again. Default: discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of every numeric field; the caller adds
// Endpoint (and may set the client, clock and registerer).
func DefaultConfig() Config {
	return Config{
		Timeout:      DefaultTimeout,
		ProfileTTL:   DefaultProfileTTL,
		NegativeTTL:  DefaultNegativeTTL,
		MaxBodyBytes: DefaultMaxBodyBytes,
	}
}

// withDefaults validates cfg and fills what has no meaningful zero (client,
// clock, registerer); numbers are taken as written.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Endpoint == nil {
		return cfg, errors.New("userinfo: endpoint: required")
	}
	if cfg.Timeout <= 0 {
		return cfg, errors.New("userinfo: timeout: must be positive (start from userinfo.DefaultConfig)")
	}
	if cfg.ProfileTTL < 0 {
		return cfg, errors.New("userinfo: profile_ttl: must not be negative")
	}
	if cfg.NegativeTTL < 0 {
		return cfg, errors.New("userinfo: negative_ttl: must not be negative")
	}
	if cfg.MaxBodyBytes <= 0 {
		return cfg, errors.New("userinfo: max_body_bytes: must be positive")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}
