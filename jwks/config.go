package jwks

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// IssuerConfig is one trusted token issuer.
type IssuerConfig struct {
	// Issuer is the exact `iss` of its tokens. Discovery is fetched from
	// Issuer + "/.well-known/openid-configuration" unless SkipDiscovery. It
	// must be https, or http on a loopback host or with InsecureHTTP.
	Issuer string
	// Audiences are the accepted `aud` values; a token's aud must contain one.
	// Required.
	Audiences []string
	// JWKSURI, when set, overrides the discovered jwks_uri; discovery is then
	// still attempted for Metadata but not required. Required with
	// SkipDiscovery.
	JWKSURI string
	// UserinfoEndpoint, when set, overrides the discovered
	// userinfo_endpoint in Metadata.
	UserinfoEndpoint string
	// SkipDiscovery never fetches the discovery document: Metadata holds
	// only Issuer, JWKSURI and UserinfoEndpoint, from the start.
	SkipDiscovery bool
	// InsecureHTTP allows plain http on any host for the issuer, JWKSURI
	// and a discovered jwks_uri (an issuer reached inside a cluster), not
	// only on loopback. Redirects are still never followed to plain http
	// off loopback.
	InsecureHTTP bool
	// UserClaim names the claim that becomes Identity.UserClaim. Default
	// "email".
	UserClaim string
	// GroupsClaim names the claim holding groups. Default "groups".
	GroupsClaim string
	// AllowedHosts are hosts (host or host:port) a discovered jwks_uri may use
	// besides the issuer's own host; any other jwks_uri is refused.
	AllowedHosts []string
}

// Config configures a Verifier. Start from [DefaultConfig]: New takes every
// number as written, so a zero means zero (no skew, no stale keys, no token
// cache) or, where zero cannot work, is refused with an error naming it.
type Config struct {
	// Issuers are the trusted issuers. At least one is required.
	Issuers []IssuerConfig
	// RefreshMinInterval spaces forced (unknown kid) key refetches: at most
	// one per issuer per interval, one in flight at a time. Must be
	// positive. Default 1s, equal to KeyWait's: a Check that finds the
	// allowance spent (forged kids flooding) still meets the next refetch
	// within its wait, so a key rotated in unannounced is followed at once.
	RefreshMinInterval time.Duration
	// ClockSkew is the leeway on exp, nbf and iat; 0 is none. Default 30s.
	ClockSkew time.Duration
	// FetchTimeout bounds each HTTP request to an issuer. Must be positive.
	// Default 5s.
	FetchTimeout time.Duration
	// KeyWait bounds how long a verification waits for a key fetch it
	// joined or started (unknown kid, no keys yet); past it the fetch goes
	// on in the background and the token is refused (ErrUnknownKey or
	// ErrNoKeys) instead of holding the Check while an IdP hangs. Must be
	// positive. Default 1s.
	KeyWait time.Duration
	// MaxStale is how long a key set is still used once it is stale: its
	// refresh (due after the JWKS Cache-Control max-age, 1m to 1h) failed.
	// It is also how long a key the IdP stops publishing is kept after it
	// was last seen. 0 never uses a stale set nor a withdrawn key.
	// Default 24h.
	MaxStale time.Duration
	// TokenCacheSize bounds the verified-token cache; 0 (or less) disables
	// it. Default 10000.
	TokenCacheSize int
	// MaxTokenBytes is the largest token looked at; larger ones are refused
	// before any parsing. Must be positive. Default 16384.
	MaxTokenBytes int
	// HTTPClient fetches discovery and JWKS documents. Default: a client
	// that follows at most 3 redirects, never from https to http.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Logger receives the background key fetches' faults: one warning when
	// an issuer's fetches start failing (issuer, URL, status or error, next
	// retry), one when the cause changes (at most once a minute), one line
	// when they succeed again. Nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of every numeric field; the caller adds
// Issuers (and may set the clock, client and registerer).
func DefaultConfig() Config {
	return Config{
		RefreshMinInterval: time.Second,
		ClockSkew:          30 * time.Second,
		FetchTimeout:       5 * time.Second,
		KeyWait:            time.Second,
		MaxStale:           24 * time.Hour,
		TokenCacheSize:     10000,
		MaxTokenBytes:      16384,
	}
}

// setDefaults fills what has no meaningful zero: the HTTP client, the clock
// and the claim names. Numbers are never replaced (see validate).
func (cfg *Config) setDefaults() {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{CheckRedirect: checkRedirect}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for i := range cfg.Issuers {
		ic := &cfg.Issuers[i]
		if ic.UserClaim == "" {
			ic.UserClaim = "email"
		}
		if ic.GroupsClaim == "" {
			ic.GroupsClaim = "groups"
		}
	}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("jwks: too many redirects")
	}
	if err := checkFetchURL(req.URL, false); err != nil {
		return err
	}
	return nil
}

func (cfg *Config) validate() error {
	if cfg.ClockSkew < 0 || cfg.MaxStale < 0 {
		return errors.New("jwks: durations must not be negative (tokens.clock_skew, tokens.max_stale)")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"tokens.refresh_min_interval", cfg.RefreshMinInterval},
		{"fetch_timeout", cfg.FetchTimeout}, // no config key: DefaultConfig's
		{"tokens.key_wait", cfg.KeyWait},
	} {
		if d.v <= 0 {
			return fmt.Errorf("jwks: %s: must be positive (start from jwks.DefaultConfig)", d.name)
		}
	}
	if cfg.MaxTokenBytes <= 0 {
		return errors.New("jwks: max_token_bytes: must be positive")
	}
	if len(cfg.Issuers) == 0 {
		return errors.New("jwks: issuers: required")
	}
	seen := map[string]bool{}
	for i, ic := range cfg.Issuers {
		if err := ic.validate(); err != nil {
			return fmt.Errorf("jwks: issuers[%d].%w", i, err)
		}
		if seen[ic.Issuer] {
			return fmt.Errorf("jwks: issuers[%d].issuer: duplicate %q", i, ic.Issuer)
		}
		seen[ic.Issuer] = true
	}
	return nil
}

func (ic *IssuerConfig) validate() error {
	if ic.Issuer == "" {
		return errors.New("issuer: required")
	}
	u, err := url.Parse(ic.Issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("issuer: %q is not an absolute URL without query", ic.Issuer)
	}
	if err := checkFetchURL(u, ic.InsecureHTTP); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	if len(ic.Audiences) == 0 {
		return errors.New("audiences: required")
	}
	for _, a := range ic.Audiences {
		if a == "" {
			return errors.New("audiences: empty value")
		}
	}
	for _, e := range []struct{ key, url string }{{"jwks_uri", ic.JWKSURI}, {"userinfo_endpoint", ic.UserinfoEndpoint}} {
		if e.url == "" {
			continue
		}
		u, err := url.Parse(e.url)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s: %q is not an absolute URL", e.key, e.url)
		}
		if err := checkFetchURL(u, ic.InsecureHTTP); err != nil {
			return fmt.Errorf("%s: %w", e.key, err)
		}
	}
	if ic.SkipDiscovery && ic.JWKSURI == "" {
		return errors.New("jwks_uri: required with skip_discovery")
	}
	for _, h := range ic.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/?#@") {
			return fmt.Errorf("allowed_hosts: %q is not a host", h)
		}
	}
	return nil
}

// checkFetchURL allows https anywhere and http only on loopback hosts, or
// anywhere with insecureHTTP.
func checkFetchURL(u *url.URL, insecureHTTP bool) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if insecureHTTP || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s: plain http only allowed for loopback hosts (or with insecure_http)", u.Redacted())
	}
	return fmt.Errorf("%s: scheme must be https", u.Redacted())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
