package jwks_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/jwks"
	"github.com/prometheus/client_golang/prometheus"
)

// TestStaleKeysKeptOnFetchErrors runs on the injected clock alone: every
// Verify waits for the fetch it starts (KeyWait far above any fetch), so the
// fetch has been counted and published before the test looks. The only
// real-time bound is FetchTimeout, which a normal fetch on loopback meets
// with a wide margin and which a hung JWKS ("too slow": answers only when
// the client gives up) always exceeds.
func TestStaleKeysKeptOnFetchErrors(t *testing.T) {
	tests := []struct {
		name         string
		fault        devidp.Fault
		fetchTimeout time.Duration
		wantResult   string
	}{
		{"status 500", devidp.Fault{Status: 500}, time.Minute, "error"},
		{"invalid json", devidp.Fault{Body: `{"keys": [`}, time.Minute, "invalid"},
		{"empty set", devidp.Fault{Body: `{"keys": []}`}, time.Minute, "empty"},
		{"only unusable keys", devidp.Fault{Body: `{"keys": [{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}`}, time.Minute, "empty"},
		{"too slow", devidp.Fault{Delay: time.Hour}, time.Second, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			p := MustIdP(t, clk)
			reg := prometheus.NewRegistry()
			v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
				cfg.Registerer = reg
				cfg.FetchTimeout = tc.fetchTimeout
				cfg.KeyWait = 2 * time.Minute // never cut short: see above
			})
			MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{}))
			p.SetFault("jwks", tc.fault)
			clk.Advance(10 * time.Second)
			_, err := v.Verify(context.Background(), MustMint(t, p, nil, devidp.MintOptions{KeyID: "rotated?"}))
			if !errors.Is(err, jwks.ErrUnknownKey) {
				t.Fatalf("unknown kid during outage: %v", err)
			}
			if got := promtest.Value(t, reg, "idgate_jwks_fetches_total", "result", tc.wantResult); got != 1 {
				t.Fatalf("fetches_total{result=%q} = %v", tc.wantResult, got)
			}
			MustVerify(t, v, MustMint(t, p, map[string]any{"jti": "new"}, devidp.MintOptions{Alg: "EdDSA"}))
			if !v.Ready() || promtest.Value(t, reg, "idgate_jwks_keys") != float64(len(devidp.Algs)) {
				t.Fatal("old keys dropped during an outage")
			}

			clk.Advance(25 * time.Hour) // past MaxStale
			if v.Ready() {
				t.Fatal("Ready with keys older than MaxStale")
			}
			_, err = v.Verify(context.Background(), MustMint(t, p, nil, devidp.MintOptions{}))
			if !errors.Is(err, jwks.ErrNoKeys) || jwks.Reason(err) != "no_keys" {
				t.Fatalf("Verify with stale keys = %v", err)
			}
			if promtest.Value(t, reg, "idgate_jwks_keys") != 0 {
				t.Fatal("keys gauge not 0 with stale keys")
			}

			p.SetFault("jwks", devidp.Fault{})
			clk.Advance(10 * time.Second)
			MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{}))
			if !v.Ready() {
				t.Fatal("not Ready after recovery")
			}
		})
	}
}

func TestReadyTransitions(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	if v.Ready() {
		t.Fatal("Ready before any fetch")
	}
	p.SetFault("jwks", devidp.Fault{Status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v.Start(ctx)
	wait.For(t, "a first JWKS attempt", func() bool { return p.JWKSCalls() >= 1 })
	if v.Ready() {
		t.Fatal("Ready while the JWKS fails")
	}
	p.SetFault("jwks", devidp.Fault{})
	wait.For(t, "Start's retry to load the keys", v.Ready)
	if md, ok := v.Metadata(p.Issuer()); !ok || md.UserinfoEndpoint != p.Issuer()+"/userinfo" {
		t.Fatalf("Metadata = %+v, %v", md, ok)
	}
}

func TestStartStopsWithContext(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	p.SetFault("jwks", devidp.Fault{Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	v.Start(ctx)
	wait.For(t, "a first JWKS attempt", func() bool { return p.JWKSCalls() >= 1 })
	cancel()
	v.Close() // returns only once the background loop has ended
	n := p.JWKSCalls()
	if _, err := v.Verify(context.Background(), MustMint(t, p, nil, devidp.MintOptions{})); !errors.Is(err, jwks.ErrNoKeys) {
		t.Fatalf("Verify after Close = %v", err)
	}
	if p.JWKSCalls() != n {
		t.Fatal("fetched after Close")
	}
}

func TestDiscovery(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	port := p.Issuer()[strings.LastIndex(p.Issuer(), ":")+1:]
	doc := func(issuer, jwksURI string) devidp.Fault {
		return devidp.Fault{Body: `{"issuer":"` + issuer + `","jwks_uri":"` + jwksURI + `","userinfo_endpoint":"` + p.Issuer() + `/userinfo"}`}
	}
	tests := []struct {
		name    string
		fault   devidp.Fault
		edit    func(*jwks.IssuerConfig)
		wantErr error
		wantMD  bool
	}{
		{"jwks_uri on another host", doc(p.Issuer(), "http://localhost:"+port+"/jwks"), nil, jwks.ErrNoKeys, false},
		{"jwks_uri on an allowed host", doc(p.Issuer(), "http://localhost:"+port+"/jwks"),
			func(ic *jwks.IssuerConfig) { ic.AllowedHosts = []string{"localhost"} }, nil, true},
		{"jwks_uri on an allowed host:port", doc(p.Issuer(), "http://localhost:"+port+"/jwks"),
			func(ic *jwks.IssuerConfig) { ic.AllowedHosts = []string{"localhost:" + port} }, nil, true},
		{"jwks_uri not https", doc(p.Issuer(), "http://192.0.2.1/jwks"),
			func(ic *jwks.IssuerConfig) { ic.AllowedHosts = []string{"192.0.2.1"} }, jwks.ErrNoKeys, false},
		{"issuer mismatch", doc("https://evil.example", p.Issuer()+"/jwks"), nil, jwks.ErrNoKeys, false},
		{"discovery down", devidp.Fault{Status: 500}, nil, jwks.ErrNoKeys, false},
		{"discovery down, jwks_uri configured", devidp.Fault{Status: 500},
			func(ic *jwks.IssuerConfig) { ic.JWKSURI = p.Issuer() + "/jwks" }, nil, false},
		{"discovery not json", devidp.Fault{Body: "<html>"}, nil, jwks.ErrNoKeys, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.SetFault("discovery", tc.fault)
			before := p.JWKSCalls()
			v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
				if tc.edit != nil {
					tc.edit(&cfg.Issuers[0])
				}
			})
			_, err := v.Verify(context.Background(), MustMint(t, p, nil, devidp.MintOptions{}))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && p.JWKSCalls() != before {
				t.Fatal("JWKS fetched although discovery was refused")
			}
			if _, ok := v.Metadata(p.Issuer()); ok != tc.wantMD {
				t.Fatalf("Metadata ok = %v, want %v", ok, tc.wantMD)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	if _, ok := v.Metadata(p.Issuer()); ok {
		t.Fatal("Metadata before discovery")
	}
	MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{}))
	md, ok := v.Metadata(p.Issuer())
	want := jwks.Metadata{
		Issuer: p.Issuer(), AuthorizationEndpoint: p.Issuer() + "/authorize", TokenEndpoint: p.Issuer() + "/token",
		UserinfoEndpoint: p.Issuer() + "/userinfo", EndSessionEndpoint: p.Issuer() + "/logout", JWKSURI: p.Issuer() + "/jwks",
		ScopesSupported: []string{"openid", "email", "profile", "groups", "offline_access"},
	}
	if !ok || !reflect.DeepEqual(md, want) {
		t.Fatalf("Metadata = %+v, %v", md, ok)
	}
	if _, ok := v.Metadata("https://other.example"); ok {
		t.Fatal("Metadata for an unknown issuer")
	}
}

func TestTokenCache(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	reg := prometheus.NewRegistry()
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
		cfg.Registerer = reg
		cfg.ClockSkew = time.Nanosecond
	})
	tok := MustMint(t, p, map[string]any{"exp": clk.Now().Add(10 * time.Second).Unix()}, devidp.MintOptions{})
	for i := 0; i < 3; i++ {
		MustVerify(t, v, tok)
	}
	hits := promtest.Value(t, reg, "idgate_jwks_token_cache_hits_total")
	misses := promtest.Value(t, reg, "idgate_jwks_token_cache_misses_total")
	if hits != 2 || misses != 1 {
		t.Fatalf("cache hits/misses = %v/%v, want 2/1", hits, misses)
	}
	clk.Advance(10 * time.Second) // now == exp: the cache says no, the 1ns skew still says yes
	MustVerify(t, v, tok)
	if m := promtest.Value(t, reg, "idgate_jwks_token_cache_misses_total"); m != 2 {
		t.Fatalf("cache entry honoured at exp (misses = %v)", m)
	}
	clk.Advance(time.Second)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, jwks.ErrExpired) {
		t.Fatalf("Verify after exp = %v, want ErrExpired", err)
	}
	id, err := v.Verify(context.Background(), MustMint(t, p, map[string]any{"groups": []string{"a"}}, devidp.MintOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(id.Groups, "injected") // must not reach the cached copy
	again, _ := v.Verify(context.Background(), MustMint(t, p, map[string]any{"groups": []string{"a"}}, devidp.MintOptions{}))
	if len(again.Groups) != 1 {
		t.Fatalf("cached groups changed: %v", again.Groups)
	}
}

func TestTokenCacheBound(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) { cfg.TokenCacheSize = 5 })
	for i := 0; i < 50; i++ {
		MustVerify(t, v, MustMint(t, p, map[string]any{"jti": i}, devidp.MintOptions{Alg: "ES256"}))
	}
	if n := jwks.CacheLen(v); n > 5 {
		t.Fatalf("cache holds %d entries, bound 5", n)
	}
}
