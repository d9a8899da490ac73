package userinfo

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/faultlog"
)

// Cache stores encoded entries with a TTL; profilecache.Cache implements it.
// The resolver owns the encoding and treats whatever Get returns as
// untrusted. Errors are counted and the resolver carries on without the
// cache.
type Cache interface {
	// Get returns the value under key; a miss is (nil, false, nil).
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl (> 0).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// Resolver enriches identities from userinfo. It is safe for concurrent use.
type Resolver struct {
	cfg     Config
	cache   Cache
	metrics *metrics

	// ctx is the resolver's own context: shared lookups run on it so that a
	// caller giving up does not cancel them for the others.
	ctx    context.Context
	cancel context.CancelFunc

	decoded memo // decoded entries, by cache key and bytes

	mu      sync.Mutex
	flights map[string]*flight           // in-flight lookups by cache key
	faults  map[string]*faultlog.Tracker // fault log per endpoint
	closed  bool
	wg      sync.WaitGroup
}

// flight is one shared lookup; entry is set before done is closed.
type flight struct {
	done  chan struct{}
	entry Entry
}

// New validates cfg and returns a Resolver that caches in cache.
func New(cfg Config, cache Cache) (*Resolver, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cache == nil {
		return nil, errors.New("userinfo: cache: required")
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Resolver{cfg: cfg, cache: cache, metrics: m, ctx: ctx, cancel: cancel,
		flights: make(map[string]*flight), faults: make(map[string]*faultlog.Tracker)}, nil
}

// Enrich fills id's empty profile fields from the issuer's userinfo
// endpoint (claims in the token win, see identity.Identity.Merge). It returns
// "" when enrichment succeeded or was not needed, else a degraded reason
// (also stored in id.Degraded when that is empty); it never fails the
// request and returns within Config.Timeout. Enrichment is skipped when the
// token already carries email, name and groups, or the issuer has no
// endpoint. accessToken is sent to the endpoint and nowhere else.
func (r *Resolver) Enrich(ctx context.Context, id *identity.Identity, accessToken string) (degraded string) {
	if id == nil || (id.Email != "" && id.Name != "" && len(id.Groups) > 0) {
		return ""
	}
	endpoint := r.cfg.Endpoint(id.Issuer)
	if endpoint == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	key := cacheKey(id.Issuer, id.Subject)
	e, ok, cacheFailed := r.cached(ctx, key, id.Subject)
	if !ok {
		if cacheFailed && ctx.Err() != nil {
			return degrade(id, ReasonCacheError)
		}
		var reason string
		if e, reason = r.lookup(ctx, key, endpoint, id, accessToken, cacheFailed); reason != "" {
			return degrade(id, reason)
		}
	}
	if e.Negative {
		return degrade(id, e.Reason)
	}
	id.Merge(&e.Profile)
	return ""
}

// degrade records reason on id and returns it.
func degrade(id *identity.Identity, reason string) string {
	if id.Degraded == "" {
		id.Degraded = reason
	}
	return reason
}

// cached reads and checks the cache entry for key. cacheFailed reports a
// cache error (counted; the caller goes on as on a miss).
func (r *Resolver) cached(ctx context.Context, key, subject string) (e Entry, ok, cacheFailed bool) {
	b, found, err := r.cache.Get(ctx, key)
	if err != nil {
		return Entry{}, false, true // counted by the cache
	}
	if !found {
		return Entry{}, false, false
	}
	e, memoized := r.decoded.get(key, b)
	if !memoized {
		if e, err = decode(b); err == nil {
			r.decoded.put(key, b, e)
		}
	}
	if err != nil || (!e.Negative && e.Profile.Subject != subject) {
		r.metrics.invalid.Inc()
		return Entry{}, false, false
	}
	if !e.Expires.After(r.cfg.Now()) {
		return Entry{}, false, false
	}
	if e.Negative {
		r.metrics.negativeHits.Inc()
	}
	return e, true, false
}

// lookup joins or starts the shared lookup for key and waits for it on the
// caller's ctx. A negative entry is returned as an entry, not a reason.
// readFailed reports that the caller's cache read failed (see settled).
func (r *Resolver) lookup(ctx context.Context, key, endpoint string, id *identity.Identity, token string, readFailed bool) (Entry, string) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return Entry{}, ReasonError
	}
	f, ok := r.flights[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		r.flights[key] = f
		r.wg.Add(1)
		go r.fly(key, f, endpoint, id.Subject, id.ExpiresAt, token, readFailed)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.entry, ""
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Entry{}, ReasonTimeout
		}
		return Entry{}, ReasonCanceled
	}
}

// fly runs one shared lookup on the resolver's context: fetch, hand the
// result to the waiters, then store it. The flight stays joinable until the
// store is done so that late arrivals get the result without a cache read.
// With a shared cache the lookup holds the subject's fleet lease (see
// settled) until its entry is stored.
func (r *Resolver) fly(key string, f *flight, endpoint, subject string, tokenExp time.Time, token string, readFailed bool) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.flights, key)
		r.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	// A caller can miss the cache just before the previous flight for this
	// key (here or on another replica) stored its result and start this one
	// just after that flight left the map: look again before asking the IdP.
	found, ok, release := r.settled(ctx, key, subject, readFailed)
	defer release() // runs after the store below: waiting replicas find the entry
	if ok {
		cancel()
		f.entry = found
		close(f.done)
		return
	}
	p, reason := r.fetch(ctx, endpoint, token, subject)
	cancel()

	now := r.cfg.Now()
	e, ttl := Entry{Profile: p}, r.cfg.ProfileTTL
	if !tokenExp.IsZero() {
		ttl = min(ttl, tokenExp.Sub(now)) // never outlive the token that fetched it
	}
	if reason != "" {
		e, ttl = Entry{Negative: true, Reason: reason}, r.cfg.NegativeTTL
	}
	e.Expires = now.Add(ttl)
	f.entry = e
	close(f.done)

	if ttl <= 0 || (reason != "" && r.ctx.Err() != nil) {
		return // expired token, or Close aborted the lookup: nothing to remember
	}
	if b, err := encode(e); err == nil {
		// A finished lookup is stored even while Close waits; Timeout bounds
		// it. A failed store is counted by the cache
		// (idgate_profilecache_sets_total{result="error"}).
		setCtx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.cfg.Timeout)
		_ = r.cache.Set(setCtx, key, b, ttl)
		cancel()
	}
}

// Close aborts userinfo requests in flight and waits for the lookups to end
// (a lookup that already has its answer still stores it, within Timeout).
// Enrich after Close returns a degraded reason without calling userinfo.
func (r *Resolver) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}
