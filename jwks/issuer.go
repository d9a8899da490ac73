package jwks

import (
	"context"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/internal/faultlog"
)

// Retry backoff while an issuer's keys cannot be fetched.
const (
	initialBackoff = 250 * time.Millisecond
	maxBackoff     = time.Minute
)

// fetchMode says what a refresh is for.
type fetchMode int

const (
	// modeForced is a refetch because of an unknown kid or missing keys:
	// throttled to one per RefreshMinInterval.
	modeForced fetchMode = iota
	// modeScheduled is the background load and periodic refresh: it also
	// refetches discovery and is never throttled.
	modeScheduled
)

// issuer is one configured issuer and its keys.
type issuer struct {
	v              *Verifier
	cfg            IssuerConfig
	host           string     // host[:port] of the issuer URL
	extraUserClaim bool       // UserClaim is not an Identity field
	audOne         [][]string // each configured audience alone: shared by cached identities
	keys           atomic.Pointer[keySet]
	meta           atomic.Pointer[Metadata]
	keysGauge      prometheus.Gauge
	lastSuccess    prometheus.Gauge
	faults         *faultlog.Tracker // logs fetch failures once per change of state

	mu        sync.Mutex
	inflight  *fetchCall
	queued    *fetchCall    // the forced fetch waiting for its slot (see awaitSlot)
	lastFetch time.Time     // start of the last fetch attempt
	lastErr   error         // outcome of the last fetch
	refresh   time.Duration // from the last JWKS Cache-Control
	retryWait time.Duration // the loop's wait after a failed scheduled fetch
}

// fetchCall is one fetch that any number of callers wait for.
type fetchCall struct {
	done chan struct{}
	err  error
}

func newIssuer(v *Verifier, cfg IssuerConfig) *issuer {
	u, _ := url.Parse(cfg.Issuer) // validated by New
	v.m.presetIssuer(cfg.Issuer)
	is := &issuer{
		v:              v,
		cfg:            cfg,
		host:           u.Host,
		extraUserClaim: !standardClaims[cfg.UserClaim],
		audOne:         audiencesAlone(cfg.Audiences),
		keysGauge:      v.m.keys.WithLabelValues(cfg.Issuer),
		lastSuccess:    v.m.lastSuccess.WithLabelValues(cfg.Issuer),
		refresh:        defaultRefresh,
		faults: faultlog.New(faultlog.Config{
			Logger: v.cfg.Logger, Now: v.cfg.Now,
			FailMessage:      "jwks: key fetch failed",
			RecoveredMessage: "jwks: keys of " + cfg.Issuer + " fetched",
			Attrs:            []any{"issuer", cfg.Issuer},
		}),
	}
	if cfg.SkipDiscovery {
		is.meta.Store(&Metadata{Issuer: cfg.Issuer, JWKSURI: cfg.JWKSURI, UserinfoEndpoint: cfg.UserinfoEndpoint})
	}
	return is
}

// current returns the keys, or nil when there are none or they have been
// stale (past their refresh, which failed) for more than MaxStale: with
// MaxStale 0 a set is used until its refresh is due and never after.
// Retained keys past MaxStale are dropped here (see keySet.prune).
func (is *issuer) current(now time.Time) *keySet {
	ks := is.keys.Load()
	maxStale := is.v.cfg.MaxStale
	if ks == nil || now.Sub(ks.fetched) > ks.refresh+maxStale {
		return nil
	}
	if !ks.retainedUntil.IsZero() && now.After(ks.retainedUntil) {
		pruned := ks.prune(now, maxStale)
		if is.keys.CompareAndSwap(ks, pruned) { // else a fetch just stored a newer set
			is.keysGauge.Set(float64(pruned.usable))
		}
		ks = pruned
	}
	return ks
}

// fetch joins the fetch in flight or starts one, and waits for it on ctx.
// A forced fetch within RefreshMinInterval of the last one waits for the
// next one the interval allows, shared by every such caller (awaitSlot),
// or returns at once when that comes after ctx ends.
func (is *issuer) fetch(ctx context.Context, mode fetchMode) error {
	is.mu.Lock()
	call := is.inflight
	if call == nil {
		now := is.v.cfg.Now()
		if mode == modeForced && !is.lastFetch.IsZero() && now.Sub(is.lastFetch) < is.v.cfg.RefreshMinInterval {
			call = is.awaitSlot(ctx, is.lastFetch.Add(is.v.cfg.RefreshMinInterval).Sub(now))
			if call == nil {
				err := is.lastErr
				is.mu.Unlock()
				return err
			}
			is.mu.Unlock()
			select {
			case <-call.done:
				return call.err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		call = &fetchCall{done: make(chan struct{})}
		if !is.v.goBackground(func(ctx context.Context) { is.run(ctx, call, mode) }) {
			is.mu.Unlock()
			return ErrNoKeys
		}
		is.inflight = call
		is.lastFetch = now
	}
	is.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// awaitSlot returns the forced fetch queued for the next slot the rate
// limit allows, wait from now, queueing it if none is; nil when ctx ends
// before then (or the verifier is closed). is.mu is held.
//
// This keeps unknown kids from locking out a key rotation: without it a
// flood of forged kids spends every refetch, and a genuine token signed
// with a just-published key is refused until a request happens to arrive
// when the interval has passed. Queued, it is accepted by the next fetch
// if that comes within its KeyWait, and however many kids arrive there is
// still at most one forced fetch per RefreshMinInterval.
func (is *issuer) awaitSlot(ctx context.Context, wait time.Duration) *fetchCall {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return nil
	}
	if is.queued != nil {
		return is.queued
	}
	call := &fetchCall{done: make(chan struct{})}
	since := is.lastFetch
	if !is.v.goBackground(func(bg context.Context) { is.runQueued(bg, call, since, wait) }) {
		return nil
	}
	is.queued = call
	return call
}

// runQueued waits for the slot, then fetches, unless a fetch started
// since the call was queued (a scheduled one): its outcome serves.
func (is *issuer) runQueued(ctx context.Context, call *fetchCall, since time.Time, wait time.Duration) {
	t := time.NewTimer(wait)
	select {
	case <-ctx.Done():
		t.Stop()
	case <-t.C:
	}
	is.mu.Lock()
	is.queued = nil
	switch {
	case ctx.Err() != nil:
		is.mu.Unlock()
		call.err = ErrNoKeys
	case is.inflight != nil:
		other := is.inflight
		is.mu.Unlock()
		<-other.done
		call.err = other.err
	case !is.lastFetch.Equal(since):
		call.err = is.lastErr
		is.mu.Unlock()
	default:
		is.inflight = call
		is.lastFetch = is.v.cfg.Now()
		is.mu.Unlock()
		is.run(ctx, call, modeForced)
		return // run closes call.done
	}
	close(call.done)
}

// run performs one fetch on the verifier's own context and publishes it.
func (is *issuer) run(ctx context.Context, call *fetchCall, mode fetchMode) {
	now := is.v.cfg.Now()
	ks, refresh, err := is.load(ctx, mode, now)
	is.v.m.fetches.WithLabelValues(is.cfg.Issuer, fetchResult(err)).Inc()
	if err == nil {
		ks.refresh = refresh
		ks = retain(is.keys.Load(), ks, now, is.v.cfg.MaxStale)
		is.keys.Store(ks)
		is.keysGauge.Set(float64(ks.usable))
		is.lastSuccess.Set(float64(now.Unix()))
	} else if is.current(now) == nil {
		is.keysGauge.Set(0) // stale beats none, but only up to MaxStale
	}
	is.mu.Lock()
	if err == nil {
		is.refresh = refresh
	}
	is.lastErr = err
	is.inflight = nil
	retryWait := is.retryWait
	is.mu.Unlock()
	is.report(err, now, mode, retryWait)
	call.err = err
	close(call.done)
}

// report logs a fetch's outcome through the fault tracker: the first
// failure, a changed cause, the recovery. A fetch cut short because the
// verifier closes is no fault.
func (is *issuer) report(err error, now time.Time, mode fetchMode, retryWait time.Duration) {
	switch {
	case err == nil:
		is.faults.OK()
		return
	case is.v.ctx.Err() != nil:
		return
	}
	attrs := []any{"keys", "none"}
	if is.current(now) != nil {
		attrs[1] = "cached keys still serving"
	}
	if mode == modeScheduled && retryWait > 0 {
		attrs = append(attrs, "next_retry_in", faultlog.Duration(retryWait))
	}
	is.faults.Fail(err, attrs...)
}

// load fetches discovery when needed and then the keys.
func (is *issuer) load(ctx context.Context, mode fetchMode, now time.Time) (*keySet, time.Duration, error) {
	md := is.meta.Load()
	if !is.cfg.SkipDiscovery && (md == nil || mode == modeScheduled) {
		fresh, err := is.discover(ctx)
		switch {
		case err == nil:
			is.meta.Store(fresh)
			md = fresh
		case is.cfg.JWKSURI == "" && md == nil:
			return nil, 0, err
		}
	}
	jwksURI := is.cfg.JWKSURI
	if jwksURI == "" {
		jwksURI = md.JWKSURI
	}
	return is.fetchKeys(ctx, jwksURI, now)
}

// loop loads the keys, retrying with backoff, then refreshes them as their
// Cache-Control says, until ctx ends.
func (is *issuer) loop(ctx context.Context) {
	backoff := initialBackoff
	for {
		wait := backoff/2 + rand.N(backoff/2+1) // jitter
		is.mu.Lock()
		is.retryWait = wait // named in the log line if this fetch fails
		is.mu.Unlock()
		if err := is.fetch(ctx, modeScheduled); err != nil {
			backoff = min(backoff*2, maxBackoff)
		} else {
			backoff = initialBackoff
			is.mu.Lock()
			wait = is.refresh
			is.mu.Unlock()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// audiencesAlone returns one single-value slice per audience, without
// spare capacity, for internAudience.
func audiencesAlone(auds []string) [][]string {
	out := make([][]string, len(auds))
	for i := range auds {
		out[i] = auds[i : i+1 : i+1]
	}
	return out
}

// internAudience returns a pointer to the issuer's own slice when aud is
// one configured audience (the usual token), so cached identities do not
// each hold a copy; else a pointer to aud, nil when aud is empty.
func (is *issuer) internAudience(aud []string) *[]string {
	if len(aud) == 0 {
		return nil
	}
	if len(aud) == 1 {
		for i := range is.audOne {
			if is.audOne[i][0] == aud[0] {
				return &is.audOne[i]
			}
		}
	}
	return &aud
}

// sharedAudience reports whether aud is one of internAudience's shared
// slices.
func (is *issuer) sharedAudience(aud *[]string) bool {
	for i := range is.audOne {
		if aud == &is.audOne[i] {
			return true
		}
	}
	return false
}
