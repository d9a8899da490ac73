package userinfo

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout      = 150 * time.Millisecond
	DefaultProfileTTL   = 10 * time.Minute
	DefaultNegativeTTL  = 30 * time.Second
	DefaultMaxBodyBytes = 1 << 20
)

// Config configures a Resolver.
type Config struct {
	// Timeout bounds one Enrich call, cache and HTTP together, and also the
	// shared HTTP lookup. A cold lookup must fit in Envoy's ext_authz
	// timeout (200ms by default). Default 150ms.
	Timeout time.Duration
	// ProfileTTL is how long a profile is cached; it is further capped by
	// the expiry of the token that fetched it. Default 10m.
	ProfileTTL time.Duration
	// NegativeTTL is how long a failed lookup is remembered, so that an IdP
	// outage does not turn into one request per caller. Default 30s.
	NegativeTTL time.Duration
	// MaxBodyBytes bounds the userinfo response read. Default 1 MiB.
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
}

// withDefaults validates cfg and fills its zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Endpoint == nil {
		return cfg, errors.New("userinfo: endpoint: required")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"timeout", &cfg.Timeout, DefaultTimeout},
		{"profile_ttl", &cfg.ProfileTTL, DefaultProfileTTL},
		{"negative_ttl", &cfg.NegativeTTL, DefaultNegativeTTL},
	} {
		if *d.v < 0 {
			return cfg, errors.New("userinfo: " + d.name + ": must not be negative")
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.MaxBodyBytes < 0 {
		return cfg, errors.New("userinfo: max_body_bytes: must not be negative")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
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
	return cfg, nil
}
