package userinfo

import (
	"context"
	"errors"
	"time"
)

// Leaser is implemented by a Cache that several replicas share
// (profilecache.Cache with Redis). Before calling userinfo for a subject a
// resolver takes a short lease on it; the replicas that do not get it wait
// for the winner's entry in the cache instead of asking the IdP too, so the
// fleet makes one userinfo call per subject, not one per replica.
type Leaser interface {
	// Lease takes the lease named key for ttl if no one holds it. won
	// reports whether it did; then release gives it back. A cache that is
	// not shared returns an error wrapping errors.ErrUnsupported; any
	// other error means the shared store failed (the resolver goes on
	// alone).
	Lease(ctx context.Context, key string, ttl time.Duration) (release func(context.Context) error, won bool, err error)
}

// Lease outcomes: the lease_total{result} label values.
const (
	leaseWon           = "won"            // took the lease and asks userinfo
	leaseWaitedHit     = "waited_hit"     // another replica's entry arrived (in time, or just before the lease was free)
	leaseWaitedTimeout = "waited_timeout" // another replica held it; no entry in time, asked userinfo
	leaseError         = "error"          // the shared cache failed; asked userinfo alone
)

// Poll backoff while waiting for another replica's entry: first look at
// once, then after 1ms, doubling up to leasePollMax.
const (
	leasePollFirst = time.Millisecond
	leasePollMax   = 16 * time.Millisecond
)

// leaseTTL is how long a lease lives if its holder never releases it: the
// holder's lookup is bounded by Timeout and its store by Timeout again, so a
// live holder keeps its lease until the entry is stored, and a dead one
// frees the subject after 2×Timeout at most.
func (r *Resolver) leaseTTL() time.Duration { return 2 * r.cfg.Timeout }

// leaseWait is how long a replica that lost the lease waits for the
// winner's entry before asking userinfo itself: half of Timeout, so that
// its own lookup still has the other half of the caller's budget.
func (r *Resolver) leaseWait() time.Duration { return r.cfg.Timeout / 2 }

// noRelease is the release of a lookup that holds no lease.
func noRelease() {}

// settled looks for an entry stored meanwhile, by this process or another
// replica, before a lookup asks userinfo. With a shared cache it takes the
// subject's lease first: the winner looks once more (an entry stored just
// before the lease was free) and asks userinfo, calling release once its
// entry is stored; a loser polls the cache for up to leaseWait. Without a
// shared cache, or when the caller's read already failed (Redis down: do
// not add a round trip), it looks once, as a single process does.
func (r *Resolver) settled(ctx context.Context, key, subject string, readFailed bool) (e Entry, ok bool, release func()) {
	l, shared := r.cache.(Leaser)
	if !shared || readFailed {
		if shared {
			r.metrics.lease.WithLabelValues(leaseError).Inc()
		}
		e, ok, _ = r.cached(ctx, key, subject)
		return e, ok, noRelease
	}
	// The Leaser keeps leases apart from entries (profilecache: KeyPrefix+"lease:"+key).
	give, won, err := l.Lease(ctx, key, r.leaseTTL())
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		e, ok, _ = r.cached(ctx, key, subject)
		return e, ok, noRelease
	case err != nil:
		r.metrics.lease.WithLabelValues(leaseError).Inc()
		e, ok, _ = r.cached(ctx, key, subject)
		return e, ok, noRelease
	case won:
		release = func() {
			// Bounded like the store; on the resolver's context so that
			// Close still gives the lease back.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.cfg.Timeout)
			_ = give(ctx) // a failure is counted by the cache; the lease expires
			cancel()
		}
		if e, ok, _ = r.cached(ctx, key, subject); ok {
			// The previous holder stored it and released just before.
			release()
			r.metrics.lease.WithLabelValues(leaseWaitedHit).Inc()
			return e, true, noRelease
		}
		r.metrics.lease.WithLabelValues(leaseWon).Inc()
		return Entry{}, false, release
	}
	if e, ok = r.awaitEntry(ctx, key, subject); ok {
		r.metrics.lease.WithLabelValues(leaseWaitedHit).Inc()
		return e, true, noRelease
	}
	if r.ctx.Err() == nil { // Close ended the wait: no outcome to count
		r.metrics.lease.WithLabelValues(leaseWaitedTimeout).Inc()
	}
	return Entry{}, false, noRelease
}

// awaitEntry polls the cache for key with a short backoff until an entry
// is there or leaseWait (or ctx) runs out. Polling with GET works alike on
// standalone, Sentinel and Cluster, where keyspace pub/sub does not.
func (r *Resolver) awaitEntry(ctx context.Context, key, subject string) (Entry, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.leaseWait())
	defer cancel()
	backoff := leasePollFirst
	for {
		if e, ok, _ := r.cached(ctx, key, subject); ok {
			return e, true
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return Entry{}, false
		case <-t.C:
		}
		backoff = min(2*backoff, leasePollMax)
	}
}
