package jwks_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/heaptest"
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

// TestTokenCacheHeapPerIdentity: a cached identity of a typical token (sub,
// email, one configured audience, two groups) costs at most
// maxHeapPerIdentity of live heap, map slot included. The full
// identity.Identity the cache held before cost ~0.75 KB.
func TestTokenCacheHeapPerIdentity(t *testing.T) {
	const n, maxHeapPerIdentity = 4000, 380
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) { cfg.TokenCacheSize = n })
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = MustMint(t, p, map[string]any{"sub": fmt.Sprintf("load-user-%d", i),
			"email": fmt.Sprintf("load-user-%d@example.com", i), "groups": []string{"team-a", "everyone"}},
			devidp.MintOptions{Alg: "ES256"})
	}
	MustVerify(t, v, tokens[0]) // keys fetched, first-use allocations done
	per := heaptest.PerEntry(n-1, func() {
		for _, tok := range tokens[1:] {
			MustVerify(t, v, tok)
		}
	})
	if got := jwks.CacheLen(v); got != n {
		t.Fatalf("cache holds %d identities, want %d", got, n)
	}
	t.Logf("live heap per cached identity: %d B", per)
	if per > maxHeapPerIdentity {
		t.Fatalf("live heap per cached identity %d B, want ≤ %d", per, maxHeapPerIdentity)
	}
	runtime.KeepAlive(tokens)
}
