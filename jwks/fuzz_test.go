package jwks_test

import (
	"context"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, never
// fail internally, and never accept anything but the tokens the IdP minted.
// Seeds in testdata/fuzz/FuzzVerify are token shapes from another issuer;
// tokens valid for this run are added below.
func FuzzVerify(f *testing.F) {
	clk := newClock()
	p := MustIdP(f, clk)
	v := MustVerifier(f, p, clk, nil)
	valid := map[string]bool{}
	for _, alg := range devidp.Algs {
		tok := MustMint(f, p, map[string]any{"groups": []string{"g"}}, devidp.MintOptions{Alg: alg})
		valid[tok] = true
		f.Add(tok)
	}
	f.Add(MustMint(f, p, nil, devidp.MintOptions{KeyID: "unknown"}))
	f.Add(p.MintNone(map[string]any{"sub": "alice"}))
	hs, err := p.MintHS256WithPublicKey(map[string]any{"sub": "alice"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(hs)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := v.Verify(ctx, tok)
		if err == nil && !valid[tok] {
			t.Fatalf("accepted a token the IdP never minted: %q -> %+v", tok, id)
		}
		if err != nil && jwks.Reason(err) == "internal" {
			t.Fatalf("internal error: %v", err)
		}
	})
}
