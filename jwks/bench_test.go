package jwks_test

import (
	"context"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

func BenchmarkVerifyCached(b *testing.B) {
	clk := newClock()
	p := MustIdP(b, clk)
	v := MustVerifier(b, p, clk, nil)
	tok := MustMint(b, p, map[string]any{"groups": []string{"a", "b"}}, devidp.MintOptions{})
	MustVerify(b, v, tok)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	clk := newClock()
	p := MustIdP(b, clk)
	v := MustVerifier(b, p, clk, nil)
	tok := MustMint(b, p, nil, devidp.MintOptions{})
	MustVerify(b, v, tok)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchCold verifies a different token every iteration: with a one-entry
// cache and 512 tokens in rotation, every Verify is a miss.
func benchCold(b *testing.B, alg string) {
	clk := newClock()
	p := MustIdP(b, clk)
	v := MustVerifier(b, p, clk, func(cfg *jwks.Config) { cfg.TokenCacheSize = 1 })
	toks := make([]string, 512)
	for i := range toks {
		toks[i] = MustMint(b, p, map[string]any{"jti": i, "groups": []string{"a", "b"}}, devidp.MintOptions{Alg: alg})
	}
	MustVerify(b, v, toks[0])
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256Cold(b *testing.B) { benchCold(b, "RS256") }
func BenchmarkVerifyES256Cold(b *testing.B) { benchCold(b, "ES256") }
func BenchmarkVerifyEdDSACold(b *testing.B) { benchCold(b, "EdDSA") }

// BenchmarkVerifyRefusedAlgNone is the cost of turning garbage away.
func BenchmarkVerifyRefusedAlgNone(b *testing.B) {
	clk := newClock()
	p := MustIdP(b, clk)
	v := MustVerifier(b, p, clk, nil)
	tok := p.MintNone(map[string]any{"sub": "alice"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err == nil {
			b.Fatal("accepted alg none")
		}
	}
}
