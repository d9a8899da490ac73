package jwks_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

func TestRotation(t *testing.T) {
	for _, keepOld := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepOld=%v", keepOld), func(t *testing.T) {
			clk := newClock()
			p := MustIdP(t, clk)
			v := MustVerifier(t, p, clk, func(c *jwks.Config) { c.MaxStale = time.Minute })
			oldTok := MustMint(t, p, nil, devidp.MintOptions{})
			MustVerify(t, v, oldTok)
			p.RotateKeys(keepOld)
			newTok := MustMint(t, p, nil, devidp.MintOptions{})
			if _, err := v.Verify(context.Background(), newTok); !errors.Is(err, jwks.ErrUnknownKey) {
				t.Fatalf("within RefreshMinInterval: Verify = %v, want ErrUnknownKey", err)
			}
			if n := p.JWKSCalls(); n != 1 {
				t.Fatalf("JWKS fetched %d times within the interval", n)
			}
			clk.Advance(5*time.Second + time.Millisecond)
			MustVerify(t, v, newTok) // first request after the interval
			if n := p.JWKSCalls(); n != 2 {
				t.Fatalf("JWKS fetched %d times, want 2", n)
			}
			// The old key is still served (keepOld), or retained for MaxStale
			// after the IdP last published it (a flapping IdP must not cut
			// off the current key).
			if _, err := v.Verify(context.Background(), oldTok); err != nil {
				t.Fatalf("old token right after rotation: %v", err)
			}
			clk.Advance(time.Minute + time.Second)
			_, err := v.Verify(context.Background(), oldTok) // forces a refetch: the set is past MaxStale
			if keepOld && err != nil {
				t.Fatalf("old token with kept key: %v", err)
			}
			if !keepOld && !errors.Is(err, jwks.ErrUnknownKey) {
				t.Fatalf("old token MaxStale after its key left: Verify = %v, want ErrUnknownKey", err)
			}
		})
	}
}

func TestUnknownKidFloodIsBounded(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{}))
	toks := make([]string, 1000)
	for i := range toks {
		toks[i] = MustMint(t, p, nil, devidp.MintOptions{Alg: "ES256", KeyID: fmt.Sprintf("random-%d", i)})
	}
	clk.Advance(time.Minute)                                       // one forced refetch is due
	p.SetFault("jwks", devidp.Fault{Delay: 50 * time.Millisecond}) // so that callers pile up on it
	var wg sync.WaitGroup
	errs := make(chan error, len(toks))
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(toks); i += 20 {
				if _, err := v.Verify(context.Background(), toks[i]); !errors.Is(err, jwks.ErrUnknownKey) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Verify = %v, want ErrUnknownKey", err)
	}
	if n := p.JWKSCalls(); n > 2 {
		t.Fatalf("1000 random kids caused %d JWKS fetches, want <= 2", n)
	}
}

func TestWaiterUsesOwnContext(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) { cfg.FetchTimeout = 10 * time.Second })
	p.SetFault("jwks", devidp.Fault{Delay: 300 * time.Millisecond})
	tok := MustMint(t, p, nil, devidp.MintOptions{})
	var wg sync.WaitGroup
	wg.Add(1)
	var patientErr error
	go func() {
		defer wg.Done()
		_, patientErr = v.Verify(context.Background(), tok)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, context.DeadlineExceeded) || jwks.Reason(err) != "internal" {
		t.Fatalf("impatient Verify = %v (%s)", err, jwks.Reason(err))
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("impatient caller waited %v", d)
	}
	wg.Wait()
	if patientErr != nil {
		t.Fatalf("patient Verify = %v", patientErr)
	}
	if n := p.JWKSCalls(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 shared fetch", n)
	}
}
