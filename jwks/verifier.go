package jwks

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/idgate/idgate/identity"
)

// Verifier verifies tokens of the configured issuers. Its methods are safe
// for concurrent use.
type Verifier struct {
	cfg     Config
	issuers map[string]*issuer
	list    []*issuer
	cache   *tokenCache
	m       *metrics

	ctx    context.Context // lives until Close; background fetches run on it
	cancel context.CancelFunc

	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
	start  sync.Once
}

// New checks cfg, fills its defaults and returns a Verifier. It does no
// I/O: keys are fetched by Start, or on first use.
func New(cfg Config) (*Verifier, error) {
	cfg.Issuers = append([]IssuerConfig(nil), cfg.Issuers...)
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		cfg:     cfg,
		issuers: make(map[string]*issuer, len(cfg.Issuers)),
		cache:   newTokenCache(cfg.TokenCacheSize, cfg.Now),
		m:       m,
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	for _, ic := range cfg.Issuers {
		is := newIssuer(v, ic)
		v.issuers[ic.Issuer] = is
		v.list = append(v.list, is)
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newKeyAge(v)); err != nil {
			return nil, fmt.Errorf("jwks: register metrics: %w", err)
		}
	}
	return v, nil
}

// Start loads every issuer's discovery and keys in the background, retrying
// with backoff until they load, then refreshes them periodically (JWKS
// Cache-Control max-age clamped to [1m, 1h], default 15m) until ctx ends or
// Close. It returns at once; calls after the first do nothing.
func (v *Verifier) Start(ctx context.Context) {
	v.start.Do(func() {
		for _, is := range v.list {
			v.goBackground(func(bg context.Context) {
				loopCtx, cancel := context.WithCancel(bg)
				defer cancel()
				stop := context.AfterFunc(ctx, cancel)
				defer stop()
				is.loop(loopCtx)
			})
		}
	})
}

// goBackground runs f on the verifier's context unless it is closed.
func (v *Verifier) goBackground(f func(context.Context)) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return false
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		f(v.ctx)
	}()
	return true
}

// Close stops background work and waits for it.
func (v *Verifier) Close() {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.cancel()
	v.wg.Wait()
}

// Ready reports whether every issuer has keys that are not too stale.
func (v *Verifier) Ready() bool {
	now := v.cfg.Now()
	for _, is := range v.list {
		if is.current(now) == nil {
			return false
		}
	}
	return true
}

// Unready names each issuer whose keys are not usable and why, one line
// each ("issuer https://idp: keys not loaded: fetch https://idp/keys:
// status 503"); it is empty exactly when Ready is true.
func (v *Verifier) Unready() []string {
	now := v.cfg.Now()
	var out []string
	for _, is := range v.list {
		if is.current(now) != nil {
			continue
		}
		state := "keys not loaded"
		if is.keys.Load() != nil {
			state = "keys stale past tokens.max_stale"
		}
		is.mu.Lock()
		err := is.lastErr
		is.mu.Unlock()
		cause := "first fetch not finished"
		if err != nil {
			cause = strings.TrimPrefix(err.Error(), "jwks: ")
		}
		out = append(out, "issuer "+is.cfg.Issuer+": "+state+": "+cause)
	}
	return out
}

// Metadata returns the endpoints issuer's discovery document announced,
// with the configured JWKSURI and UserinfoEndpoint in place of theirs, and
// false when it is not configured or discovery has not succeeded yet. With
// SkipDiscovery it holds only the configured endpoints, from the start.
func (v *Verifier) Metadata(issuer string) (Metadata, bool) {
	is := v.issuers[issuer]
	if is == nil {
		return Metadata{}, false
	}
	md := is.meta.Load()
	if md == nil {
		return Metadata{}, false
	}
	out := *md
	if is.cfg.JWKSURI != "" {
		out.JWKSURI = is.cfg.JWKSURI
	}
	if is.cfg.UserinfoEndpoint != "" {
		out.UserinfoEndpoint = is.cfg.UserinfoEndpoint
	}
	return out, true
}

// Verify checks token (a compact JWS, without "Bearer ") and returns who it
// identifies. Errors wrap one of the Err* refusals, except a fault waiting
// for keys (such as ctx ending). The returned Identity's slices may be
// shared with the cache: replace them rather than writing into them.
func (v *Verifier) Verify(ctx context.Context, token string) (identity.Identity, error) {
	if token == "" {
		return identity.Identity{}, ErrMalformed
	}
	if len(token) > v.cfg.MaxTokenBytes {
		return identity.Identity{}, ErrTooLarge
	}
	now := v.cfg.Now()
	key := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) // read-only view, no copy
	if id, ok := v.cache.get(&key, now); ok {
		v.m.cacheHits.Inc()
		return id, nil
	}
	v.m.cacheMisses.Inc()
	id, e, err := v.verify(ctx, token, now)
	if err != nil {
		return identity.Identity{}, err
	}
	if e != nil {
		v.cache.put(key, e, now)
	}
	return id, nil
}

// verify does the full check of a token not in the cache and returns its
// identity and the entry to cache (nil when it cannot be packed).
func (v *Verifier) verify(ctx context.Context, token string, now time.Time) (identity.Identity, *cacheEntry, error) {
	p, err := parse(token)
	if err != nil {
		return identity.Identity{}, nil, err
	}
	is := v.issuers[p.claims.Iss]
	if is == nil {
		return identity.Identity{}, nil, ErrUnknownIssuer
	}
	if err := v.checkClaims(is, &p.claims, now); err != nil {
		return identity.Identity{}, nil, err
	}
	ks, err := is.keysFor(ctx, p.kid, now)
	if err != nil {
		return identity.Identity{}, nil, err
	}
	k, err := verifySignature(ks, p)
	if err != nil {
		return identity.Identity{}, nil, err
	}
	id, err := p.claims.toIdentity(is, p.payload, k.kid)
	if err != nil {
		return identity.Identity{}, nil, err
	}
	return id, newEntry(&id, is, ks), nil
}

// checkClaims checks aud, exp, nbf and iat, with ClockSkew on the times.
func (v *Verifier) checkClaims(is *issuer, c *claims, now time.Time) error {
	if !audienceOK(c.Aud, is.cfg.Audiences) {
		return ErrAudience
	}
	return v.checkTimes(c, now)
}

// checkTimes checks exp, nbf and iat with ClockSkew.
func (v *Verifier) checkTimes(c *claims, now time.Time) error {
	skew := v.cfg.ClockSkew
	if !now.Before(c.Exp.time().Add(skew)) {
		return ErrExpired
	}
	if c.Nbf != nil && now.Add(skew).Before(c.Nbf.time()) {
		return ErrNotYetValid
	}
	if c.Iat != nil && now.Add(skew).Before(c.Iat.time()) {
		return ErrIssuedInFuture
	}
	return nil
}

func audienceOK(aud, accepted []string) bool {
	for _, a := range aud {
		for _, b := range accepted {
			if a == b {
				return true
			}
		}
	}
	return false
}

// keysFor returns keys holding kid, refetching once (shared, throttled)
// when the kid is unknown or there are no keys.
func (is *issuer) keysFor(ctx context.Context, kid string, now time.Time) (*keySet, error) {
	if ks := is.current(now); ks != nil && (kid == "" || ks.has(kid)) {
		return ks, nil
	}
	wctx, cancel := context.WithTimeout(ctx, is.v.cfg.KeyWait)
	fetchErr := is.fetch(wctx, modeForced)
	cancel()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("jwks: waiting for keys: %w", ctx.Err())
	}
	if wctx.Err() != nil && fetchErr != nil {
		fetchErr = errKeyWait // the fetch goes on; this caller stops waiting
	}
	ks := is.current(is.v.cfg.Now())
	switch {
	case ks == nil && fetchErr != nil:
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, fetchErr)
	case ks == nil:
		return nil, ErrNoKeys
	case kid != "" && !ks.has(kid):
		return nil, ErrUnknownKey
	}
	return ks, nil
}
