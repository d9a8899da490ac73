package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// fleetSize is the number of idgate replicas in the fleet tests.
const fleetSize = 4

// fleet is four idgate processes sharing a three-master Redis Cluster, and
// the IdP whose userinfo calls they make.
type fleet struct {
	idp     *devidp.Provider
	cluster *redistest.Cluster
	procs   []*proc
}

// mustFleet starts the cluster, the IdP and four idgate replicas whose
// profile cache is the cluster (several addrs and no master_name: go-redis
// runs in cluster mode), all sealing with one key, and waits until each is
// ready. userinfo.timeout is generous (2s, so a loser of the fleet lease
// waits up to 1s) because the test machine may be slow; the Redis timeouts
// too, so a busy machine is not taken for a Redis failure.
func mustFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{cluster: redistest.StartCluster(t), idp: mustIdP(t, devidp.Options{})}
	keyFile := filepath.Join(t.TempDir(), "profile-key")
	if err := os.WriteFile(keyFile, []byte("fleet test: one sealing key for all four replicas"), 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := make([]string, 0, len(f.cluster.Nodes))
	for _, a := range f.cluster.Addrs() {
		addrs = append(addrs, fmt.Sprintf("%q", a))
	}
	cfg := baseConfig(f.idp, "", fmt.Sprintf(`userinfo: {timeout: 2s}
redis:
  addrs: [%s]
  key_file: %q
  dial_timeout: 500ms
  read_timeout: 500ms
  write_timeout: 500ms
`, strings.Join(addrs, ", "), keyFile))
	for range fleetSize {
		f.procs = append(f.procs, mustRun(t, cfg))
	}
	for _, p := range f.procs {
		p.mustReady(15 * time.Second)
	}
	return f
}

// users registers n users named prefix-0... at the IdP (userinfo answers
// their verified email and groups; the tokens carry only sub, so every
// replica must enrich) and returns one Check per user.
func (f *fleet) users(t *testing.T, prefix string, n int) []shot {
	t.Helper()
	shots := make([]shot, n)
	for i := range shots {
		sub := fmt.Sprintf("%s-%d", prefix, i)
		email := sub + "@example.com"
		f.idp.SetUserinfo(sub, map[string]any{"email": email, "email_verified": true, "groups": []string{"ml", prefix}})
		tok := mustMint(t, f.idp, map[string]any{"sub": sub}, devidp.MintOptions{})
		shots[i] = shot{kind: sub, allow: true, user: email,
			req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})}
	}
	return shots
}

// check sends one Check to replica r and records it.
func (f *fleet) check(r int, s shot, tl *tally) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tl.sent.Add(1)
	resp, err := f.procs[r].client.Check(ctx, s.req)
	tl.record(s, resp, err)
}

// callsPerUser returns the userinfo calls the IdP answered for each of
// shots' users and the largest count.
func (f *fleet) callsPerUser(shots []shot) (calls map[string]int64, total, most int64) {
	by := f.idp.UserinfoCallsBySubject()
	calls = map[string]int64{}
	for _, s := range shots {
		n := by[s.kind]
		calls[s.kind] = n
		total += n
		most = max(most, n)
	}
	return calls, total, most
}

// mustAllAllowedOneCallEach fails t unless tl holds a clean, allowed Check
// of every user of shots on every replica, and the IdP answered exactly one
// userinfo call for each user.
func (f *fleet) mustAllAllowedOneCallEach(t *testing.T, what string, shots []shot, tl *tally) {
	t.Helper()
	tl.mustBeClean(t, 0)
	if got := tl.allowed.Load(); got != int64(fleetSize*len(shots)) {
		t.Errorf("allowed %d of %d Checks: %v", got, fleetSize*len(shots), tl)
	}
	f.mustOneCallEach(t, what, shots)
}

// mustOneCallEach fails t unless the IdP answered exactly one userinfo
// call for every user of shots.
func (f *fleet) mustOneCallEach(t *testing.T, what string, shots []shot) {
	t.Helper()
	calls, total, most := f.callsPerUser(shots)
	var wrong []string
	for sub, n := range calls {
		if n != 1 {
			wrong = append(wrong, fmt.Sprintf("%s:%d", sub, n))
		}
	}
	slices.Sort(wrong)
	if len(wrong) > 0 {
		t.Errorf("%s: %d userinfo calls for %d users (at most %d for one); not exactly one: %v",
			what, total, len(shots), most, wrong[:min(len(wrong), 20)])
	}
	t.Logf("figures: fleet %s: %d userinfo calls for %d users (%.2f per user, at most %d for one); lease %s",
		what, total, len(shots), float64(total)/float64(len(shots)), most, f.leaseFigures())
}

// leaseFigures sums idgate_userinfo_lease_total by result over the fleet.
func (f *fleet) leaseFigures() string {
	var parts []string
	for _, r := range []string{"won", "waited_hit", "waited_timeout", "error"} {
		sum := 0.0
		for _, p := range f.procs {
			sum += p.metric("idgate_userinfo_lease_total", "result", r)
		}
		parts = append(parts, fmt.Sprintf("%s=%.0f", r, sum))
	}
	return strings.Join(parts, " ")
}

// TestFleetOneUserinfoCallPerUser holds issue 15's fleet figures: four
// idgate replicas on a three-master Redis Cluster make one userinfo call
// per user, whether a user's requests reach the replicas one after another
// or all at the same instant, and a master killed under load loses no
// Check and gives no wrong identity.
func TestFleetOneUserinfoCallPerUser(t *testing.T) {
	start := time.Now()
	f := mustFleet(t)
	t.Logf("fleet of %d replicas on a %d-master cluster up in %v", fleetSize, len(f.cluster.Nodes), time.Since(start))

	t.Run("spread", func(t *testing.T) {
		// Each user is first seen by one replica, then (once that answered)
		// by the other three, users in parallel.
		shots := f.users(t, "spread", 120)
		tl := newTally()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i, s := range shots {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				first := i % fleetSize
				f.check(first, s, tl)
				for r := range fleetSize {
					if r != first {
						f.check(r, s, tl)
					}
				}
			})
		}
		wg.Wait()
		f.mustAllAllowedOneCallEach(t, "spread", shots, tl)
	})

	t.Run("simultaneous", func(t *testing.T) {
		// Each user's first request reaches the four replicas at the same
		// instant (a page firing parallel calls through a gateway): one
		// barrier per batch of users, every Check of the batch waiting on it.
		shots := f.users(t, "burst", 100)
		tl := newTally()
		const batch = 20
		for b := 0; b < len(shots); b += batch {
			barrier := make(chan struct{})
			var ready, wg sync.WaitGroup
			for _, s := range shots[b:min(b+batch, len(shots))] {
				for r := range fleetSize {
					ready.Add(1)
					wg.Go(func() {
						ready.Done()
						<-barrier
						f.check(r, s, tl)
					})
				}
			}
			ready.Wait()
			close(barrier)
			wg.Wait()
		}
		f.mustAllAllowedOneCallEach(t, "simultaneous", shots, tl)
	})

	t.Run("master killed under load", func(t *testing.T) {
		// Steady load on every replica over 100 users; then one master is
		// killed (its slots are unserved: this cluster has no replicas, and
		// after cluster-node-timeout the surviving masters refuse every key)
		// and the load goes on over those users and 100 new ones. Every
		// Check is answered, allowed, with the right identity. Users first
		// seen with the master gone cost up to one userinfo call per
		// replica (each falls back to its own single flight): reported.
		shots := f.users(t, "kill", 200)
		before, after := shots[:100], shots[100:]
		var killed atomic.Bool
		tl := newTally()
		clients := make([]*timedClient, fleetSize)
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		var loads sync.WaitGroup
		for r, p := range f.procs {
			clients[r] = &timedClient{AuthorizationClient: p.client}
			next := func(i int) shot {
				if killed.Load() {
					return shots[(i+r*7)%len(shots)]
				}
				return before[(i+r*7)%len(before)]
			}
			loads.Go(func() { load(ctx, clients[r], 100, 30*time.Second, next, tl) })
		}
		answered := func() int64 { return tl.allowed.Load() + tl.denied.Load() + int64(tl.errors()) }
		wait.Within(t, 20*time.Second, "load answered before the kill", func() bool { return answered() >= 600 })
		errsBefore := f.redisErrors()
		f.cluster.Nodes[1].Kill()
		killed.Store(true)
		atKill := answered()
		wait.Within(t, 20*time.Second, "idgate to see the master gone", func() bool { return f.redisErrors() > errsBefore })
		// Past cluster-node-timeout (2s), every replica has seen every user.
		wait.Within(t, 20*time.Second, "load answered after the kill", func() bool { return answered() >= atKill+1600 })
		stop()
		loads.Wait()
		tl.mustBeClean(t, 0)
		if tl.allowed.Load() != tl.sent.Load() {
			t.Errorf("allowed %d of %d Checks sent: %v", tl.allowed.Load(), tl.sent.Load(), tl)
		}
		var slowest time.Duration
		for _, c := range clients {
			slowest = max(slowest, time.Duration(c.slowest.Load()))
		}
		_, totalBefore, mostBefore := f.callsPerUser(before)
		_, totalAfter, mostAfter := f.callsPerUser(after)
		t.Logf("figures: fleet master killed under load: %v; slowest Check %v; userinfo calls: %d for %d users seen before the kill (at most %d for one), %d for %d users first seen after it (%.2f per user, at most %d for one); redis read errors %.0f; lease %s",
			tl, slowest, totalBefore, len(before), mostBefore, totalAfter, len(after), float64(totalAfter)/float64(len(after)), mostAfter,
			f.redisErrors(), f.leaseFigures())
	})
	t.Logf("whole fleet test: %v", time.Since(start))
}

// redisErrors sums the replicas' failed profile-cache reads.
func (f *fleet) redisErrors() float64 {
	sum := 0.0
	for _, p := range f.procs {
		sum += p.metric("idgate_profilecache_gets_total", "result", "error")
	}
	return sum
}

// timedClient records the slowest Check it sent.
type timedClient struct {
	authv3.AuthorizationClient
	slowest atomic.Int64 // nanoseconds
}

func (c *timedClient) Check(ctx context.Context, req *authv3.CheckRequest, opts ...grpc.CallOption) (*authv3.CheckResponse, error) {
	start := time.Now()
	resp, err := c.AuthorizationClient.Check(ctx, req, opts...)
	d := int64(time.Since(start))
	for {
		cur := c.slowest.Load()
		if d <= cur || c.slowest.CompareAndSwap(cur, d) {
			return resp, err
		}
	}
}
