package jwks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/jwks"
	"github.com/prometheus/client_golang/prometheus"
)

func TestNewValidates(t *testing.T) {
	ok := func() jwks.IssuerConfig {
		return jwks.IssuerConfig{Issuer: "https://idp.example", Audiences: []string{"a"}}
	}
	withIssuers := func(iss ...jwks.IssuerConfig) jwks.Config {
		cfg := jwks.DefaultConfig()
		cfg.Issuers = iss
		return cfg
	}
	good := []struct {
		name string
		cfg  jwks.Config
	}{
		{"https issuer", withIssuers(ok())},
		{"loopback http", withIssuers(jwks.IssuerConfig{Issuer: "http://127.0.0.1:8080", Audiences: []string{"a"}})},
		{"localhost http with path", withIssuers(jwks.IssuerConfig{Issuer: "http://localhost/realms/x", Audiences: []string{"a"}})},
		{"ipv6 loopback", withIssuers(jwks.IssuerConfig{Issuer: "http://[::1]:9000", Audiences: []string{"a"}})},
		{"two issuers", withIssuers(ok(), jwks.IssuerConfig{Issuer: "https://other.example", Audiences: []string{"b"}, JWKSURI: "https://keys.example/jwks"})},
		{"zero skew, stale and token cache are taken as written", func() jwks.Config {
			cfg := withIssuers(ok())
			cfg.ClockSkew, cfg.MaxStale, cfg.TokenCacheSize = 0, 0, 0
			return cfg
		}()},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			v, err := jwks.New(tc.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			v.Close()
		})
	}
	bad := []struct {
		name    string
		edit    func(*jwks.Config)
		wantErr string
	}{
		{"no issuers", func(c *jwks.Config) { c.Issuers = nil }, "jwks: issuers: required"},
		{"empty issuer", func(c *jwks.Config) { c.Issuers[0].Issuer = "" }, "issuers[0].issuer: required"},
		{"relative issuer", func(c *jwks.Config) { c.Issuers[0].Issuer = "idp.example" }, "issuers[0].issuer:"},
		{"issuer with query", func(c *jwks.Config) { c.Issuers[0].Issuer = "https://idp.example?x=1" }, "issuers[0].issuer:"},
		{"plain http off loopback", func(c *jwks.Config) { c.Issuers[0].Issuer = "http://idp.example" }, "issuers[0].issuer: http://idp.example: plain http only allowed for loopback hosts"},
		{"ftp issuer", func(c *jwks.Config) { c.Issuers[0].Issuer = "ftp://idp.example" }, "issuers[0].issuer:"},
		{"no audiences", func(c *jwks.Config) { c.Issuers[0].Audiences = nil }, "jwks: issuers[0].audiences: required"},
		{"empty audience", func(c *jwks.Config) { c.Issuers[0].Audiences = []string{""} }, "issuers[0].audiences: empty value"},
		{"jwks_uri plain http", func(c *jwks.Config) { c.Issuers[0].JWKSURI = "http://keys.example/jwks" }, "issuers[0].jwks_uri:"},
		{"allowed host with path", func(c *jwks.Config) { c.Issuers[0].AllowedHosts = []string{"keys.example/x"} }, "issuers[0].allowed_hosts:"},
		{"duplicate issuer", func(c *jwks.Config) { c.Issuers = append(c.Issuers, ok()) }, "issuers[1].issuer: duplicate"},
		{"second issuer bad", func(c *jwks.Config) { c.Issuers = append(c.Issuers, jwks.IssuerConfig{Issuer: "https://b.example"}) }, "issuers[1].audiences: required"},
		{"negative size limit", func(c *jwks.Config) { c.MaxTokenBytes = -1 }, "max_token_bytes"},
		{"negative duration", func(c *jwks.Config) { c.ClockSkew = -time.Second }, "durations must not be negative (tokens.clock_skew, tokens.max_stale)"},
		{"zero size limit", func(c *jwks.Config) { c.MaxTokenBytes = 0 }, "jwks: max_token_bytes: must be positive"},
		{"zero refresh interval", func(c *jwks.Config) { c.RefreshMinInterval = 0 }, "jwks: tokens.refresh_min_interval: must be positive"},
		{"zero fetch timeout", func(c *jwks.Config) { c.FetchTimeout = 0 }, "jwks: fetch_timeout: must be positive"},
		{"zero key wait", func(c *jwks.Config) { c.KeyWait = 0 }, "jwks: tokens.key_wait: must be positive"},
		{"a bare Config", func(c *jwks.Config) { *c = jwks.Config{Issuers: c.Issuers} }, "must be positive"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			cfg := withIssuers(ok())
			tc.edit(&cfg)
			_, err := jwks.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "jwks: ") {
				t.Fatalf("New = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewRegistersMetricsOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := jwks.DefaultConfig()
	cfg.Issuers, cfg.Registerer = []jwks.IssuerConfig{{Issuer: "https://idp.example", Audiences: []string{"a"}}}, reg
	v, err := jwks.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := jwks.New(cfg); err == nil || !strings.Contains(err.Error(), "jwks: register metrics") {
		t.Fatalf("second New on the same registry = %v", err)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{jwks.ErrMalformed, "malformed"},
		{jwks.ErrTooLarge, "too_large"},
		{jwks.ErrUnknownIssuer, "unknown_issuer"},
		{jwks.ErrAlgorithm, "algorithm"},
		{jwks.ErrUnknownKey, "unknown_key"},
		{jwks.ErrSignature, "signature"},
		{jwks.ErrExpired, "expired"},
		{jwks.ErrNotYetValid, "not_yet_valid"},
		{jwks.ErrIssuedInFuture, "iat_future"},
		{jwks.ErrAudience, "audience"},
		{jwks.ErrNoKeys, "no_keys"},
		{context.Canceled, "internal"},
	}
	for _, tc := range tests {
		name := tc.want
		if name == "" {
			name = "nil"
		}
		t.Run(name, func(t *testing.T) {
			if got := jwks.Reason(tc.err); got != tc.want {
				t.Fatalf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
			}
			if tc.err != nil && !strings.HasPrefix(tc.err.Error(), "jwks: ") && tc.want != "internal" {
				t.Fatalf("%q lacks the jwks: prefix", tc.err)
			}
		})
	}
}
