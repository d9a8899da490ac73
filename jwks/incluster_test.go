package jwks_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/jwks"
)

// dexIssuer is Kubeflow's in-cluster Dex: plain http, not loopback.
const dexIssuer = "http://dex.auth.svc.cluster.local:5556/dex"

// clusterDNS sends requests for dex.auth.svc.cluster.local to a devidp,
// mapping Dex's paths to devidp's, and records every path asked for.
type clusterDNS struct {
	target *url.URL
	mu     sync.Mutex
	paths  []string
}

func (c *clusterDNS) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = c.target.Scheme, c.target.Host
	r.URL.Path = strings.Replace(strings.TrimPrefix(r.URL.Path, "/dex"), "/keys", "/jwks", 1)
	r.Host = ""
	return http.DefaultTransport.RoundTrip(r)
}

func (c *clusterDNS) asked() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

// TestInClusterIssuer: an issuer with insecure_http and skip_discovery
// (Kubeflow's Dex) verifies tokens with keys from its jwks_uri over plain
// http on a non-loopback host, and its discovery document is never asked
// for, neither at start, on an unknown kid, nor on a scheduled refresh.
func TestInClusterIssuer(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	target, _ := url.Parse(p.Issuer())
	dns := &clusterDNS{target: target}
	ic := jwks.IssuerConfig{
		Issuer: dexIssuer, Audiences: []string{"kubeflow-oidc-authservice"},
		JWKSURI: dexIssuer + "/keys", UserinfoEndpoint: dexIssuer + "/userinfo",
		SkipDiscovery: true, InsecureHTTP: true,
	}
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
		cfg.Issuers = []jwks.IssuerConfig{ic}
		cfg.HTTPClient = &http.Client{Transport: dns}
	})
	md, ok := v.Metadata(dexIssuer)
	if !ok || md.JWKSURI != ic.JWKSURI || md.UserinfoEndpoint != ic.UserinfoEndpoint || md.AuthorizationEndpoint != "" {
		t.Fatalf("Metadata before any fetch = %+v, %v; want the configured endpoints", md, ok)
	}
	claims := map[string]any{"iss": dexIssuer, "aud": "kubeflow-oidc-authservice"}
	MustVerify(t, v, MustMint(t, p, claims, devidp.MintOptions{}))
	p.RotateKeys(false)
	clk.Advance(6 * time.Second) // past RefreshMinInterval: the unknown kid refetches
	MustVerify(t, v, MustMint(t, p, claims, devidp.MintOptions{}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v.Start(ctx) // the scheduled load fetches again
	wait.For(t, "the scheduled fetch", func() bool { return len(dns.asked()) >= 3 })
	for _, path := range dns.asked() {
		if path != "/dex/keys" {
			t.Errorf("asked the IdP for %s; want only /dex/keys", path)
		}
	}
}

// TestInsecureHTTPIsOptIn: plain http off loopback is refused unless the
// issuer says insecure_http, and skip_discovery needs a jwks_uri.
func TestInsecureHTTPIsOptIn(t *testing.T) {
	tests := []struct {
		name string
		ic   jwks.IssuerConfig
		want string
	}{
		{name: "http issuer", ic: jwks.IssuerConfig{Issuer: dexIssuer, Audiences: []string{"a"}},
			want: "plain http only allowed for loopback hosts"},
		{name: "http jwks_uri", ic: jwks.IssuerConfig{Issuer: "https://dex.example", Audiences: []string{"a"}, JWKSURI: dexIssuer + "/keys"},
			want: "jwks_uri"},
		{name: "http userinfo_endpoint", ic: jwks.IssuerConfig{Issuer: "https://dex.example", Audiences: []string{"a"}, UserinfoEndpoint: dexIssuer + "/userinfo"},
			want: "userinfo_endpoint"},
		{name: "skip_discovery without jwks_uri", ic: jwks.IssuerConfig{Issuer: dexIssuer, Audiences: []string{"a"}, InsecureHTTP: true, SkipDiscovery: true},
			want: "jwks_uri: required with skip_discovery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jwks.DefaultConfig()
			cfg.Issuers = []jwks.IssuerConfig{tc.ic}
			if _, err := jwks.New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
