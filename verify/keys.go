package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// keySet caches idgate's public keys by kid. One fetch at a time is in
// flight, shared by every caller waiting for it; a failed fetch keeps the
// keys already held.
type keySet struct {
	cfg *Config
	bg  context.Context // fetches run here, not on a caller's context

	mu        sync.Mutex
	keys      map[string]*ecdsa.PublicKey
	lastFetch time.Time     // start of the last fetch, on cfg.Now
	inflight  chan struct{} // closed when the running fetch ends; nil if none
	lastErr   error         // result of the last fetch
	failing   bool          // state last logged
}

func newKeySet(bg context.Context, cfg *Config) *keySet {
	return &keySet{cfg: cfg, bg: bg}
}

// lookup returns the key named kid. An unknown kid starts a fetch when none
// started within MinRefetchInterval, and waits for it (or the one running)
// on ctx. The limit also holds while idgate is unreachable: requests then
// fail at once instead of each waiting for a fetch.
func (s *keySet) lookup(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	s.mu.Lock()
	if k, ok := s.keys[kid]; ok {
		s.mu.Unlock()
		return k, nil
	}
	done := s.inflight
	if done == nil {
		if !s.lastFetch.IsZero() && s.cfg.Now().Sub(s.lastFetch) < s.cfg.MinRefetchInterval {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: kid %q (refetch not due yet)", ErrUnknownKey, kid)
		}
		done = s.startLocked()
	}
	s.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("verify: waiting for keys: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	if s.keys == nil && s.lastErr != nil {
		return nil, fmt.Errorf("%w: kid %q: %w", ErrUnknownKey, kid, s.lastErr)
	}
	return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
}

// startLocked starts a fetch; s.mu is held.
func (s *keySet) startLocked() chan struct{} {
	done := make(chan struct{})
	s.inflight = done
	s.lastFetch = s.cfg.Now()
	go func() {
		keys, err := s.fetch()
		s.mu.Lock()
		if err == nil {
			s.keys = keys
		}
		s.lastErr = err
		s.inflight = nil
		s.logChange(err)
		s.mu.Unlock()
		close(done)
	}()
	return done
}

// refresh starts a fetch unless one is running and waits for it.
func (s *keySet) refresh() {
	s.mu.Lock()
	done := s.inflight
	if done == nil {
		done = s.startLocked()
	}
	s.mu.Unlock()
	<-done
}

// refreshLoop fetches at once, then every RefreshInterval, until ctx ends.
func (s *keySet) refreshLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RefreshInterval)
	defer t.Stop()
	for {
		s.refresh()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logChange logs when fetching starts failing or recovers; s.mu is held.
func (s *keySet) logChange(err error) {
	switch {
	case err != nil && !s.failing:
		s.failing = true
		s.cfg.Logger.Warn("verify: key set fetch failing, keeping the keys held", "url", s.cfg.JWKSURL, "keys", len(s.keys), "error", err)
	case err == nil && s.failing:
		s.failing = false
		s.cfg.Logger.Info("verify: key set fetch recovered", "url", s.cfg.JWKSURL, "keys", len(s.keys))
	}
}

// fetch GETs the key set within FetchTimeout and keeps its ES256 P-256
// signing keys.
func (s *keySet) fetch() (map[string]*ecdsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(s.bg, s.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: fetch %s: %w", s.cfg.JWKSURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify: fetch %s: %w", s.cfg.JWKSURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verify: fetch %s: status %d", s.cfg.JWKSURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("verify: fetch %s: %w", s.cfg.JWKSURL, err)
	}
	if int64(len(body)) > s.cfg.MaxJWKSBytes {
		return nil, fmt.Errorf("verify: fetch %s: key set larger than %d bytes", s.cfg.JWKSURL, s.cfg.MaxJWKSBytes)
	}
	return parseKeySet(body)
}

// parseKeySet keeps the keys that can verify ES256: EC P-256, alg absent or
// ES256, use absent or "sig", with a kid. Other keys are skipped; a set
// with none usable is an error.
func parseKeySet(body []byte) (map[string]*ecdsa.PublicKey, error) {
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("verify: parse key set: %w", err)
	}
	keys := make(map[string]*ecdsa.PublicKey, set.Len())
	for i := range set.Len() {
		k, _ := set.Key(i)
		if k.KeyType() != jwa.EC || k.KeyID() == "" {
			continue
		}
		if a := k.Algorithm(); a != nil && a.String() != "" && a.String() != jwa.ES256.String() {
			continue
		}
		if u := k.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
			continue
		}
		var pub ecdsa.PublicKey
		if err := k.Raw(&pub); err != nil || pub.Curve != elliptic.P256() {
			continue
		}
		keys[k.KeyID()] = &pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("verify: key set has no ES256 P-256 signing key")
	}
	return keys, nil
}
