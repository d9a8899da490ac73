package jwks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// TestKeyWaitBoundsAHungFetch: while the IdP hangs, a token with an unknown
// kid (or for an issuer without keys) is refused after KeyWait, even for a
// caller with no deadline, and the fetch goes on in the background.
func TestKeyWaitBoundsAHungFetch(t *testing.T) {
	tests := []struct {
		name    string
		preload bool
		kid     string
		want    error
	}{
		{name: "unknown kid with keys held", preload: true, kid: "gone", want: jwks.ErrUnknownKey},
		{name: "no keys yet", preload: false, want: jwks.ErrNoKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			p := MustIdP(t, clk)
			v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
				cfg.FetchTimeout = 10 * time.Second
				cfg.KeyWait = 100 * time.Millisecond
			})
			if tc.preload {
				MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{}))
				clk.Advance(time.Minute) // past RefreshMinInterval
			}
			p.SetFault("jwks", devidp.Fault{Delay: 5 * time.Second})
			tok := MustMint(t, p, nil, devidp.MintOptions{KeyID: tc.kid})
			start := time.Now()
			_, err := v.Verify(context.Background(), tok)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("Verify waited %v for a hung IdP", d)
			}
		})
	}
}
