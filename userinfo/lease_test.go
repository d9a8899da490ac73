package userinfo_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/profilecache"
	"github.com/idgate/idgate/userinfo"
)

// profilecache.Cache is the Leaser idgate wires in.
var _ userinfo.Leaser = (*profilecache.Cache)(nil)

// fleetReplica is one idgate replica's resolver and profile cache over a
// shared Redis, with the registries of both.
type fleetReplica struct {
	res      *userinfo.Resolver
	reg      *prometheus.Registry // the resolver's metrics
	cacheReg *prometheus.Registry // the profile cache's metrics
}

// newFleetReplica builds one replica; timeout 0 takes MustNew's.
func newFleetReplica(tb testing.TB, addr string, p *idp, timeout time.Duration) *fleetReplica {
	tb.Helper()
	pc := profilecache.DefaultConfig()
	pc.Redis.Addrs, pc.Keys = []string{addr}, [][]byte{replicaKey}
	cacheReg := prometheus.NewRegistry()
	pc.Registerer = cacheReg
	c, err := profilecache.New(pc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	res, reg := MustNew(tb, userinfo.Config{Timeout: timeout}, p, c)
	return &fleetReplica{res: res, reg: reg, cacheReg: cacheReg}
}

func (f *fleetReplica) lease(tb testing.TB, result string) float64 {
	tb.Helper()
	return promtest.Value(tb, f.reg, "idgate_userinfo_lease_total", "result", result)
}

// TestFleetLeaseOneCallPerSubject: two or four replicas (each its own
// resolver and profile cache, one real Redis) see a subject's first request
// at once. One takes the lease and asks userinfo; the others wait for its
// profile in Redis, so the IdP gets exactly one call. The IdP holds its
// answer until every replica is polling Redis, so the losers really wait.
func TestFleetLeaseOneCallPerSubject(t *testing.T) {
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			srv := redistest.Start(t)
			answer := make(chan struct{})
			p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
				<-answer
				jsonProfile(janeProfile)(w, r)
			})
			replicas := make([]*fleetReplica, n)
			for i := range replicas {
				replicas[i] = newFleetReplica(t, srv.Addr(), p, 2*time.Second)
			}
			ids := make([]*identity.Identity, n)
			reasons := make([]string, n)
			var wg sync.WaitGroup
			for i, rep := range replicas {
				ids[i] = tokenIdentity(time.Time{})
				wg.Go(func() { reasons[i] = rep.res.Enrich(context.Background(), ids[i], testToken) })
			}
			// Each replica has missed Redis twice: its caller's read, then
			// either the winner's look after taking the lease or a loser's
			// first poll.
			wait.For(t, "every replica's two misses and the one userinfo call", func() bool {
				for _, rep := range replicas {
					if promtest.Value(t, rep.cacheReg, "idgate_profilecache_gets_total", "result", "miss") < 2 {
						return false
					}
				}
				return p.calls.Load() == 1
			})

			close(answer)
			wg.Wait()
			if got := p.calls.Load(); got != 1 {
				t.Fatalf("userinfo calls = %d, want 1 across %d replicas", got, n)
			}
			var won, hit, timedOut float64
			for i, rep := range replicas {
				if reasons[i] != "" || ids[i].Email != "jane@example.com" || len(ids[i].Groups) != 2 {
					t.Errorf("replica %d: degraded %q, email %q, groups %v", i, reasons[i], ids[i].Email, ids[i].Groups)
				}
				won += rep.lease(t, "won")
				hit += rep.lease(t, "waited_hit")
				timedOut += rep.lease(t, "waited_timeout")
			}
			if won != 1 || hit != float64(n-1) || timedOut != 0 {
				t.Errorf("lease won=%v waited_hit=%v waited_timeout=%v, want 1, %d, 0", won, hit, timedOut, n-1)
			}
		})
	}
}

// TestFleetLeaseHolderDies: the replica holding a subject's lease never
// finishes (its userinfo call hangs, as if the process had frozen or died).
// Another replica waits a bounded time (half of its userinfo timeout), then
// asks userinfo itself and answers within its timeout.
func TestFleetLeaseHolderDies(t *testing.T) {
	srv := redistest.Start(t)
	hang := make(chan struct{})
	defer close(hang)
	var first sync.Once
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		stuck := false
		first.Do(func() { stuck = true })
		if stuck {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		jsonProfile(janeProfile)(w, r)
	})
	const timeout = time.Second
	holder := newFleetReplica(t, srv.Addr(), p, 10*time.Second)
	other := newFleetReplica(t, srv.Addr(), p, timeout)

	go holder.res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken)
	wait.For(t, "the holder's userinfo call under its lease", func() bool { return p.calls.Load() == 1 && holder.lease(t, "won") == 1 })
	// The lease's key is the documented <key_prefix>lease:userinfo:<hash>.
	if keys, err := redistest.Do(srv.Addr(), "KEYS", "idgate:lease:userinfo:*"); err != nil || len(keys) != 1 {
		t.Fatalf("KEYS idgate:lease:userinfo:* = %q, %v; want the held lease", keys, err)
	}

	id := tokenIdentity(time.Time{})
	start := time.Now()
	reason := other.res.Enrich(context.Background(), id, testToken)
	took := time.Since(start)
	if reason != "" || id.Email != "jane@example.com" {
		t.Fatalf("degraded %q, email %q", reason, id.Email)
	}
	if took < timeout/2 || took >= timeout {
		t.Errorf("answered in %v, want after the lease wait (%v) and within the timeout (%v)", took, timeout/2, timeout)
	}
	if got := other.lease(t, "waited_timeout"); got != 1 {
		t.Errorf("lease waited_timeout = %v, want 1", got)
	}
	if got := p.calls.Load(); got != 2 {
		t.Errorf("userinfo calls = %d, want 2 (the stuck holder's and the waiter's own)", got)
	}
}

// TestFleetLeaseRedisDown: with Redis gone each replica enriches on its own
// (per-process single flight), within its timeout, and counts the lease
// error; enrichment fails soft, not closed.
func TestFleetLeaseRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	p := newIDP(t, jsonProfile(janeProfile))
	const timeout = time.Second
	replicas := []*fleetReplica{
		newFleetReplica(t, srv.Addr(), p, timeout),
		newFleetReplica(t, srv.Addr(), p, timeout),
	}
	srv.Kill()
	for i, rep := range replicas {
		const callers = 8
		var wg sync.WaitGroup
		ids := make([]*identity.Identity, callers)
		start := time.Now()
		for j := range ids {
			ids[j] = tokenIdentity(time.Time{})
			wg.Go(func() { rep.res.Enrich(context.Background(), ids[j], testToken) })
		}
		wg.Wait()
		if took := time.Since(start); took >= timeout {
			t.Errorf("replica %d: enrichment took %v with Redis down, want < %v", i, took, timeout)
		}
		for j, id := range ids {
			if id.Email != "jane@example.com" || id.Degraded != "" {
				t.Errorf("replica %d caller %d: email %q degraded %q", i, j, id.Email, id.Degraded)
			}
		}
		if got := rep.lease(t, "error"); got < 1 {
			t.Errorf("replica %d: lease error = %v, want counted", i, got)
		}
		if got := rep.lease(t, "won") + rep.lease(t, "waited_hit") + rep.lease(t, "waited_timeout"); got != 0 {
			t.Errorf("replica %d: lease outcomes other than error = %v with Redis down", i, got)
		}
	}
	if got := p.calls.Load(); got != 2 {
		t.Errorf("userinfo calls = %d, want 2 (one per replica: singleflight within each)", got)
	}
}

// TestLeaseMetricsStartAtZero: every lease outcome is exported at zero
// from the start, so a rate() over it exists before the first lookup.
func TestLeaseMetricsStartAtZero(t *testing.T) {
	_, reg := MustNew(t, userinfo.Config{}, newIDP(t, jsonProfile(janeProfile)), newMemCache())
	for _, result := range []string{"won", "waited_hit", "waited_timeout", "error"} {
		t.Run(result, func(t *testing.T) {
			if got := promtest.Value(t, reg, "idgate_userinfo_lease_total", "result", result); got != 0 {
				t.Fatalf("idgate_userinfo_lease_total{result=%q} = %v, want 0", result, got)
			}
		})
	}
}
