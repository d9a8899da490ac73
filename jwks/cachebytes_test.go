package jwks_test

import (
	"fmt"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// TestTokenCacheByteBound: identities far larger than the per-entry budget
// (hundreds of long group names) fill the cache's bytes before its entries,
// so it holds fewer of them rather than grow; small ones fill the entries.
func TestTokenCacheByteBound(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) { cfg.TokenCacheSize = 10 })
	groups := make([]string, 300)
	for i := range groups {
		groups[i] = fmt.Sprintf("a-rather-long-group-name-%04d", i)
	}
	for i := 0; i < 10; i++ {
		MustVerify(t, v, MustMint(t, p, map[string]any{"jti": i, "groups": groups}, devidp.MintOptions{Alg: "ES256"}))
	}
	if n := jwks.CacheLen(v); n < 1 || n > 5 {
		t.Fatalf("cache holds %d identities of ~10 KB each, want 1 to 5 (bound 10 entries, 40 KiB)", n)
	}
	for i := 0; i < 20; i++ {
		MustVerify(t, v, MustMint(t, p, map[string]any{"jti": 100 + i}, devidp.MintOptions{Alg: "ES256"}))
	}
	if n := jwks.CacheLen(v); n != 10 {
		t.Fatalf("cache holds %d small identities, want 10", n)
	}
}
