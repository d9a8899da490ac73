package jwks_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/jwks"
)

// TestUnknownKidFloodDoesNotLockOutRotation: while forged tokens with
// unknown kids (no valid signature needed) keep arriving, the IdP rotates
// to a key it did not pre-publish (as Dex does). A genuine token signed
// with the new key is accepted within KeyWait, because an unknown kid that
// finds the refetch allowance spent waits for the next allowed fetch
// instead of being refused; and the key set is still fetched at most once
// per RefreshMinInterval.
func TestUnknownKidFloodDoesNotLockOutRotation(t *testing.T) {
	const interval, keyWait = 200 * time.Millisecond, time.Second
	clk := newClock() // stands still: only real time spaces the fetches
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
		cfg.RefreshMinInterval = interval
		cfg.KeyWait = keyWait
	})
	MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{}))
	start := time.Now()

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var forged, wrong atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				tok, err := p.Mint(map[string]any{"sub": "mallory"}, devidp.MintOptions{KeyID: fmt.Sprintf("forged-%d-%d", g, i)})
				if err != nil {
					wrong.Add(1)
					return
				}
				if _, err := v.Verify(ctx, tok); err == nil || (!errors.Is(err, jwks.ErrUnknownKey) && ctx.Err() == nil) {
					wrong.Add(1)
				}
				forged.Add(1)
			}
		}()
	}
	wait.For(t, "the flood to be under way", func() bool { return forged.Load() >= 16 })

	for round := range 3 {
		p.RotateKeys(false) // the new key is published only now
		genuine := MustMint(t, p, nil, devidp.MintOptions{})
		t0 := time.Now()
		if _, err := v.Verify(context.Background(), genuine); err != nil {
			t.Fatalf("rotation %d: genuine token during the flood: %v (%s)", round, err, jwks.Reason(err))
		}
		if d := time.Since(t0); d > keyWait {
			t.Fatalf("rotation %d: accepted after %v, more than KeyWait", round, d)
		}
	}
	stop()
	wg.Wait()
	elapsed := time.Since(start)
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d forged tokens were not refused with ErrUnknownKey", n)
	}
	// The load before the flood, then at most one per interval.
	if calls, limit := p.JWKSCalls(), 1+int64(elapsed/interval)+1; calls > limit {
		t.Errorf("%d key-set fetches in %v, want at most %d (one per %v)", calls, elapsed, limit, interval)
	}
	if forged.Load() < 16 {
		t.Errorf("only %d forged tokens tried", forged.Load())
	}
}

// TestDefaultsFollowRotationUnderFlood: the guarantee above holds for every
// genuine token only when a Check's wait covers a whole refetch interval;
// the defaults must keep it.
func TestDefaultsFollowRotationUnderFlood(t *testing.T) {
	d := jwks.DefaultConfig()
	if d.RefreshMinInterval > d.KeyWait {
		t.Fatalf("default RefreshMinInterval %v > KeyWait %v: a genuine token with a fresh key can be refused during a forged-kid flood", d.RefreshMinInterval, d.KeyWait)
	}
}
