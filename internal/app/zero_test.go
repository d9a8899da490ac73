package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// mustOpenParsed starts idgate from YAML loaded by the real config package
// (the issuer is a fresh development IdP on clk, prepended), on clk, and
// waits for its keys.
func mustOpenParsed(t *testing.T, clk *testclock.Clock, yaml string) (*App, *devidp.Provider) {
	t.Helper()
	idp := mustIdP(t, devidp.Options{Now: clk.Now})
	a := mustStart(t, mustParse(t, idp, yaml, nil), Options{Now: clk.Now})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return a, idp
}

// checkToken sends one Check with tok through the real ext_authz server and
// reports whether it was allowed.
func checkToken(t *testing.T, a *App, tok string) bool {
	t.Helper()
	resp, err := a.authz.Check(context.Background(), &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Host: "runs", Path: "/api/v1/runs", Headers: map[string]string{
				":authority": "runs", ":method": "GET", ":path": "/api/v1/runs", "authorization": "Bearer " + tok,
			}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return codes.Code(resp.GetStatus().GetCode()) == codes.OK
}

// TestZeroMeansZeroThroughConfig: clock_skew and jwks_max_stale written as
// 0 reach the verifier as 0. It holds the identity path "verified token":
// the attacker holds an expired token, or the IdP's keys stop refreshing
// (a rotation after a leak, an IdP the attacker knocks over).
func TestZeroMeansZeroThroughConfig(t *testing.T) {
	tests := []struct {
		name              string
		yaml              string
		expiredAccepted   bool // 20s after exp
		readyWhenStale    bool // 1m past the set's refresh, the refresh failing
		staleKeysVerified bool
	}{
		{name: "defaults: 30s skew, a day of stale keys", expiredAccepted: true, readyWhenStale: true, staleKeysVerified: true},
		{name: "clock_skew: 0 and jwks_max_stale: 0", yaml: "clock_skew: 0s\njwks_max_stale: 0\n"},
		{name: "tokens.clock_skew: 0 and tokens.max_stale: 0", yaml: "tokens: {clock_skew: 0s, max_stale: 0}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := testclock.New(time.Now().Truncate(time.Second))
			a, idp := mustOpenParsed(t, clk, tc.yaml)
			mint := func(exp time.Time, jti string) string {
				tok, err := idp.Mint(map[string]any{"sub": "alice", "aud": "kubeflow", "email": "alice@example.com",
					"exp": exp.Unix(), "jti": jti}, devidp.MintOptions{Alg: "RS256"})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			const past = 20 * time.Second // inside a 30s skew, outside none
			expired := mint(clk.Now().Add(time.Minute), "expired")
			clk.Advance(time.Minute + past)
			if got := checkToken(t, a, expired); got != tc.expiredAccepted {
				t.Errorf("token %v past exp allowed = %v, want %v", past, got, tc.expiredAccepted)
			}

			fresh := mint(clk.Now().Add(time.Hour), "fresh")
			idp.SetFault("jwks", devidp.Fault{Status: 503})
			clk.Advance(16 * time.Minute) // the JWKS refresh (15m by default) is due, and fails
			if got := a.Ready(); got != tc.readyWhenStale {
				t.Fatalf("Ready with a stale key set = %v, want %v", got, tc.readyWhenStale)
			}
			if got := checkToken(t, a, fresh); got != tc.staleKeysVerified {
				t.Fatalf("token verified with a stale key set = %v, want %v", got, tc.staleKeysVerified)
			}
		})
	}
}

// TestProfileTTLWithoutRedis: without Redis a userinfo profile lives
// cache.profile_ttl, not the in-process layer's one-minute convergence cap.
func TestProfileTTLWithoutRedis(t *testing.T) {
	testProfileTTL(t, "cache: {profile_ttl: 10m}\nuserinfo: {timeout: 5s}\n")
}

// TestProfileTTLWithRedis: with Redis too a userinfo profile lives
// cache.profile_ttl: the in-process copy converges after a minute, Redis
// serves it until profile_ttl, and then userinfo is asked again.
func TestProfileTTLWithRedis(t *testing.T) {
	rds := redistest.Start(t)
	// Generous timeouts: this test is about the profile's life, and on a
	// loaded machine the default 150ms userinfo budget (lease, call, store)
	// or 50ms Redis timeouts could end in a degraded Check instead.
	testProfileTTL(t, fmt.Sprintf("cache: {profile_ttl: 10m}\nuserinfo: {timeout: 5s}\n"+
		"redis: {addrs: [%q], key_file: %q, dial_timeout: 2s, read_timeout: 2s, write_timeout: 2s}\n", rds.Addr(), mustCacheKeyFile(t)))
}

func testProfileTTL(t *testing.T, yaml string) {
	clk := testclock.New(time.Now().Truncate(time.Second))
	a, idp := mustOpenParsed(t, clk, yaml)
	idp.SetUserinfo("bob", map[string]any{"email": "bob@example.com", "name": "Bob", "groups": []string{"ml"}})
	tok, err := idp.Mint(map[string]any{"sub": "bob", "aud": "kubeflow", "exp": clk.Now().Add(time.Hour).Unix()},
		devidp.MintOptions{Alg: "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		wantCalls int64
	}{
		{"first Check fetches the profile", 0, 1},
		{"5m later it is still cached", 5 * time.Minute, 1},
		{"9m59s later it is still cached", 4*time.Minute + 59*time.Second, 1},
		{"past profile_ttl it is fetched again", 2 * time.Second, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(st.advance)
			if !checkToken(t, a, tok) {
				t.Fatal("denied")
			}
			// A profile is stored after the Check has it (in Redis, over the
			// network); the clock moves on only once it is.
			wait.For(t, "the profile stored", func() bool { return profileStores(t, a) == float64(idp.UserinfoCalls()) })
			if got := idp.UserinfoCalls(); got != st.wantCalls {
				t.Fatalf("userinfo calls = %d, want %d", got, st.wantCalls)
			}
		})
	}
}

// profileStores is the number of profile cache stores so far.
func profileStores(t *testing.T, a *App) float64 {
	t.Helper()
	mfs, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "idgate_profilecache_sets_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
