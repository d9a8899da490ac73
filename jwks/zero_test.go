package jwks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// TestMaxStaleZero: MaxStale 0 uses a key set until its refresh is due and
// never after, and keeps no withdrawn key; it does not make a healthy set
// unusable (a zero is not "refetch on every token").
func TestMaxStaleZero(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(c *jwks.Config) { c.MaxStale = 0 })
	MustVerify(t, v, MustMint(t, p, map[string]any{"jti": "a"}, devidp.MintOptions{}))

	clk.Advance(14 * time.Minute) // the set is due for refresh after 15m
	MustVerify(t, v, MustMint(t, p, map[string]any{"jti": "b"}, devidp.MintOptions{}))
	if !v.Ready() || p.JWKSCalls() != 1 {
		t.Fatalf("fresh set: Ready %v, JWKS calls %d; want ready on one fetch", v.Ready(), p.JWKSCalls())
	}

	p.SetFault("jwks", devidp.Fault{Status: 503})
	clk.Advance(time.Minute + time.Second)
	if v.Ready() {
		t.Fatal("Ready with a stale set and MaxStale 0")
	}
	if _, err := v.Verify(context.Background(), MustMint(t, p, map[string]any{"jti": "c"}, devidp.MintOptions{})); !errors.Is(err, jwks.ErrNoKeys) {
		t.Fatalf("Verify with a stale set = %v, want ErrNoKeys", err)
	}

	p.SetFault("jwks", devidp.Fault{})
	old := MustMint(t, p, map[string]any{"jti": "d"}, devidp.MintOptions{})
	p.RotateKeys(false)
	clk.Advance(5 * time.Second)
	MustVerify(t, v, MustMint(t, p, map[string]any{"jti": "e"}, devidp.MintOptions{})) // refetch: the new keys
	if _, err := v.Verify(context.Background(), old); !errors.Is(err, jwks.ErrUnknownKey) {
		t.Fatalf("withdrawn key with MaxStale 0: Verify = %v, want ErrUnknownKey", err)
	}
}

func TestClockSkewZero(t *testing.T) {
	for _, tc := range []struct {
		name   string
		skew   time.Duration
		wantOK bool
	}{
		{"no skew refuses a token 1s past exp", 0, false},
		{"5s skew accepts it", 5 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			p := MustIdP(t, clk)
			v := MustVerifier(t, p, clk, func(c *jwks.Config) { c.ClockSkew = tc.skew })
			tok := MustMint(t, p, map[string]any{"exp": clk.Now().Add(time.Minute).Unix()}, devidp.MintOptions{})
			clk.Advance(time.Minute + time.Second)
			_, err := v.Verify(context.Background(), tok)
			if (err == nil) != tc.wantOK {
				t.Fatalf("Verify = %v, want ok %v", err, tc.wantOK)
			}
		})
	}
}
