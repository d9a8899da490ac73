package jwks_test

import (
	"context"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/jwks"
)

// clock is an injected clock that moves only when told.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Unix(1_700_000_000, 0)) }

// MustIdP starts a devidp provider on clk, closed when the test ends.
func MustIdP(tb testing.TB, clk *clock) *devidp.Provider {
	tb.Helper()
	p, err := devidp.Start(devidp.Options{Now: clk.Now})
	if err != nil {
		tb.Fatalf("devidp.Start: %v", err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// MustVerifier builds a Verifier for p (audience "idgate-dev") on clk,
// applying edit to the config first. It is closed when the test ends. Keys
// load on first use (Start is not called).
func MustVerifier(tb testing.TB, p *devidp.Provider, clk *clock, edit func(*jwks.Config)) *jwks.Verifier {
	tb.Helper()
	cfg := jwks.DefaultConfig()
	cfg.Issuers = []jwks.IssuerConfig{{Issuer: p.Issuer(), Audiences: []string{"idgate-dev"}}}
	cfg.Now = clk.Now
	if edit != nil {
		edit(&cfg)
	}
	v, err := jwks.New(cfg)
	if err != nil {
		tb.Fatalf("jwks.New: %v", err)
	}
	tb.Cleanup(v.Close)
	return v
}

// MustMint mints a token for sub "alice" plus extra claims.
func MustMint(tb testing.TB, p *devidp.Provider, extra map[string]any, opt devidp.MintOptions) string {
	tb.Helper()
	claims := map[string]any{"sub": "alice", "email": "alice@example.com"}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := p.Mint(claims, opt)
	if err != nil {
		tb.Fatalf("Mint: %v", err)
	}
	return tok
}

// MustVerify verifies tok and fails the test on error.
func MustVerify(tb testing.TB, v *jwks.Verifier, tok string) {
	tb.Helper()
	if _, err := v.Verify(context.Background(), tok); err != nil {
		tb.Fatalf("Verify: %v (%s)", err, jwks.Reason(err))
	}
}
