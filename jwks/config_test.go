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
	good := []struct {
		name string
		cfg  jwks.Config
	}{
		{"https issuer", jwks.Config{Issuers: []jwks.IssuerConfig{ok()}}},
		{"loopback http", jwks.Config{Issuers: []jwks.IssuerConfig{{Issuer: "http://127.0.0.1:8080", Audiences: []string{"a"}}}}},
		{"localhost http with path", jwks.Config{Issuers: []jwks.IssuerConfig{{Issuer: "http://localhost/realms/x", Audiences: []string{"a"}}}}},
		{"ipv6 loopback", jwks.Config{Issuers: []jwks.IssuerConfig{{Issuer: "http://[::1]:9000", Audiences: []string{"a"}}}}},
		{"two issuers", jwks.Config{Issuers: []jwks.IssuerConfig{ok(), {Issuer: "https://other.example", Audiences: []string{"b"}, JWKSURI: "https://keys.example/jwks"}}}},
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
		{"negative duration", func(c *jwks.Config) { c.ClockSkew = -time.Second }, "durations"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jwks.Config{Issuers: []jwks.IssuerConfig{ok()}}
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
	cfg := jwks.Config{Issuers: []jwks.IssuerConfig{{Issuer: "https://idp.example", Audiences: []string{"a"}}}, Registerer: reg}
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
