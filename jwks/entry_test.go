package jwks_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// TestCachedIdentityEqualsVerified: the identity a cache hit rebuilds from
// the compact entry is the one the full verification returned, whatever
// the token holds.
func TestCachedIdentityEqualsVerified(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*jwks.IssuerConfig)
		claims map[string]any
	}{
		{"minimal", nil, map[string]any{"email": nil}},
		{"profile and groups", nil, map[string]any{"email_verified": true, "name": "Alice A", "given_name": "Alice",
			"family_name": "A", "preferred_username": "al", "groups": []string{"b", "a", "b"}}},
		{"unverified email", nil, map[string]any{"email_verified": false}},
		{"no iat, fractional exp", nil, map[string]any{"iat": nil, "exp": 1_700_003_600.25}},
		{"audiences not all configured", nil, map[string]any{"aud": []string{"idgate-dev", "other"}}},
		{"audience configured second", func(ic *jwks.IssuerConfig) { ic.Audiences = []string{"x", "idgate-dev"} }, nil},
		{"custom user claim", func(ic *jwks.IssuerConfig) { ic.UserClaim = "upn" }, map[string]any{"upn": "alice@corp"}},
		{"custom user claim empty", func(ic *jwks.IssuerConfig) { ic.UserClaim = "upn" }, map[string]any{"upn": ""}},
		{"custom user claim not a string", func(ic *jwks.IssuerConfig) { ic.UserClaim = "upn" }, map[string]any{"upn": 7}},
		{"custom groups claim", func(ic *jwks.IssuerConfig) { ic.GroupsClaim = "roles" }, map[string]any{"roles": []string{"r1", "r2"}}},
		{"groups overage", nil, map[string]any{"hasgroups": true}},
		{"unicode", nil, map[string]any{"name": "Zoë ſ K", "groups": []string{"ü", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			p := MustIdP(t, clk)
			v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
				if tc.edit != nil {
					tc.edit(&cfg.Issuers[0])
				}
			})
			tok := MustMint(t, p, tc.claims, devidp.MintOptions{Alg: "ES256"})
			miss, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if jwks.CacheLen(v) != 1 {
				t.Fatal("not cached")
			}
			hit, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(hit, miss) {
				t.Fatalf("cache hit\n%+v\nverified\n%+v", hit, miss)
			}
		})
	}
}

// TestHugeIdentityNotCached: an identity whose strings do not fit the
// compact entry (only possible above the default max_token_bytes) is
// verified every time and never cached.
func TestHugeIdentityNotCached(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) { cfg.MaxTokenBytes = 1 << 20 })
	groups := make([]string, 700)
	for i := range groups {
		groups[i] = strings.Repeat("g", 90) + string(rune('a'+i%26)) + strings.Repeat("x", i%50)
	}
	tok := MustMint(t, p, map[string]any{"groups": groups}, devidp.MintOptions{Alg: "ES256"})
	for range 2 {
		id, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if len(id.Groups) < 600 {
			t.Fatalf("%d groups", len(id.Groups))
		}
	}
	if n := jwks.CacheLen(v); n != 0 {
		t.Fatalf("cache holds %d entries, want 0", n)
	}
}

// TestFarFutureTokenNotCached: a time past what Unix nanoseconds hold
// (year 2262) cannot be packed exactly, so such a token is verified every
// time, with the same identity, and never cached.
func TestFarFutureTokenNotCached(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	tok := MustMint(t, p, map[string]any{"exp": 10_000_000_000}, devidp.MintOptions{Alg: "ES256"}) // year 2286
	first, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) || first.ExpiresAt.Unix() != 10_000_000_000 {
		t.Fatalf("identities differ or exp lost: %v, %v", first.ExpiresAt, again.ExpiresAt)
	}
	if n := jwks.CacheLen(v); n != 0 {
		t.Fatalf("%d cached, want none", n)
	}
}
