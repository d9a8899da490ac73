package reliability

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestStartWithIssuerUnreachable: idgate starts while its issuer does not
// listen, stays unready, answers every Check for that issuer with 401
// no_keys (never an allow, never a gRPC error), and becomes ready by
// itself once the issuer comes up.
func TestStartWithIssuerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here until the IdP starts
	issuer := "http://" + addr
	p := mustRun(t, fmt.Sprintf(`server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0"}
tokens: {refresh_min_interval: 200ms}
issuers: [{issuer: %q, audiences: [kubeflow], userinfo: false}]
`, issuer))

	// A token for that issuer, signed by a key idgate has never seen.
	early := mustIdP(t, devidp.Options{})
	tok := mustMint(t, early, map[string]any{"sub": "u0", "email": userEmail(0), "iss": issuer}, devidp.MintOptions{})
	req := checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})
	deadline := time.Now().Add(1500 * time.Millisecond)
	checks := 0
	for time.Now().Before(deadline) {
		if st := p.readyz(); st != http.StatusServiceUnavailable {
			t.Fatalf("/readyz = %d while the issuer is down, want 503", st)
		}
		resp := p.mustCheck(req)
		if codes.Code(resp.GetStatus().GetCode()) == codes.OK {
			t.Fatal("a Check was allowed with no keys")
		}
		d := resp.GetDeniedResponse()
		if d.GetStatus().GetCode() != 401 || !strings.Contains(headerValue(d.GetHeaders(), "www-authenticate"), "invalid_token") {
			t.Fatalf("no-keys denial: %d %v", d.GetStatus().GetCode(), d.GetHeaders())
		}
		checks++
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.logs.String(), `"reason":"no_keys"`) {
		t.Error(`no decision logged with reason "no_keys"`)
	}
	failures := p.metric("idgate_jwks_fetches_total", "result", "error")
	if failures < 2 {
		t.Errorf("idgate_jwks_fetches_total{result=error} = %v, want retries", failures)
	}

	idp := mustIdP(t, devidp.Options{Addr: addr})
	start := time.Now()
	p.mustReady(10 * time.Second)
	readyAfter := time.Since(start)
	tok = mustMint(t, idp, map[string]any{"sub": "u0", "email": userEmail(0)}, devidp.MintOptions{})
	tl := newTally()
	s := shot{kind: "valid", allow: true, user: userEmail(0), req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})}
	resp := p.mustCheck(s.req)
	tl.record(s, resp, nil)
	tl.mustBeClean(t, 0)
	t.Logf("figures: no_keys denials=%d fetch_failures=%.0f ready_after_issuer_up=%v", checks, failures, readyAfter.Round(10*time.Millisecond))
}

// TestJWKSFlapping: with keys loaded, the JWKS endpoint fails in each way
// while Checks flow and unknown-kid tokens force refetches: cached keys
// keep serving, readiness holds, and failures are counted by result.
func TestJWKSFlapping(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	other := mustIdP(t, devidp.Options{})
	otherJWKS := mustGet(t, other.Issuer()+"/jwks")
	p := mustRun(t, baseConfig(idp, "    userinfo: false", ""))
	p.mustReady(10 * time.Second)
	m := newMix(t, idp, 8)
	unknownKid := mustMint(t, idp, map[string]any{"sub": "k", "email": "k@example.com"}, devidp.MintOptions{KeyID: "rotated-away"})
	force := shot{kind: "unknown_kid", req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + unknownKid})}
	next := func(i int) shot {
		if i%10 == 0 {
			return force
		}
		return m.next(i)
	}
	load(context.Background(), p.client, 200, 500*time.Millisecond, next, newTally()) // warm
	before := p.usage()
	faults := []struct {
		name   string
		fault  devidp.Fault
		result string
	}{
		{name: "status 500", fault: devidp.Fault{Status: 500}, result: "error"},
		{name: "invalid JSON", fault: devidp.Fault{Body: `{"keys": [`}, result: "invalid"},
		{name: "empty key set", fault: devidp.Fault{Body: `{"keys": []}`}, result: "empty"},
		{name: "6 MB key set", fault: devidp.Fault{Body: `{"keys": [], "pad": "` + strings.Repeat("x", 6<<20) + `"}`}, result: "invalid"},
		// Last: the hung fetch times out (5s) after the phase ends and is
		// then counted as an error.
		{name: "timeout", fault: devidp.Fault{Delay: time.Minute}, result: ""},
	}
	total := newTally()
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			beforeFail := p.metric("idgate_jwks_fetches_total", "result", tc.result)
			idp.SetFault("jwks", tc.fault)
			tl := newTally()
			load(context.Background(), p.client, 200, 1500*time.Millisecond, next, tl)
			idp.SetFault("jwks", devidp.Fault{})
			// Unknown-kid tokens are denied (or time out waiting for the
			// hung fetch); every valid token is allowed as its user.
			tl.mustBeClean(t, 0)
			if tc.result != "" {
				if after := p.metric("idgate_jwks_fetches_total", "result", tc.result); after <= beforeFail {
					t.Errorf("idgate_jwks_fetches_total{result=%q} did not grow (%v)", tc.result, after)
				}
			}
			if st := p.readyz(); st != http.StatusOK {
				t.Errorf("/readyz = %d with stale keys, want 200", st)
			}
			if keys := p.metric("idgate_jwks_keys"); keys == 0 {
				t.Error("idgate_jwks_keys = 0 while stale keys serve")
			}
			t.Logf("figures: %s: %v", tc.name, tl)
			total.sent.Add(tl.sent.Load())
			total.wrongIdentity.Add(tl.wrongIdentity.Load())
		})
	}
	hung := p.metric("idgate_jwks_fetches_total", "result", "error")
	if !wait.Poll(8*time.Second, func() bool { return p.metric("idgate_jwks_fetches_total", "result", "error") > hung }) {
		t.Error("the hung key fetch was not counted as an error after its timeout")
	}
	if age := p.metric("idgate_jwks_key_age_seconds"); age < 5 {
		t.Errorf("idgate_jwks_key_age_seconds = %v after %v of failed refreshes", age, 5*time.Second)
	}
	// A set without the kid idgate holds (a flapping IdP replica serving a
	// foreign or truncated set): the cached key keeps serving, for up to
	// tokens.max_stale after the IdP last published it; the foreign keys are
	// added, never trusted for our tokens' kid.
	t.Run("key set without the current kid", func(t *testing.T) {
		idp.SetFault("jwks", devidp.Fault{Body: otherJWKS})
		refetch(t, p, force.req) // the foreign set is fetched
		tl := newTally()
		load(context.Background(), p.client, 200, 500*time.Millisecond, m.next, tl)
		tl.mustBeClean(t, 0)
		idp.SetFault("jwks", devidp.Fault{})
		refetch(t, p, force.req) // the healed set is fetched
		healed := newTally()
		load(context.Background(), p.client, 200, 500*time.Millisecond, m.next, healed)
		healed.mustBeClean(t, 0)
		t.Logf("figures: foreign set: %v; healed: %v", tl, healed)
	})
	after := p.mustNotGrow(before, 64)
	t.Logf("figures: flapping total sent=%d wrong_identity=%d goroutines %.0f→%.0f rss %.1f→%.1f MiB; fetch failures by result: error=%.0f invalid=%.0f empty=%.0f",
		total.sent.Load(), total.wrongIdentity.Load(), before.goroutines, after.goroutines, before.rssMiB, after.rssMiB,
		p.metric("idgate_jwks_fetches_total", "result", "error"), p.metric("idgate_jwks_fetches_total", "result", "invalid"),
		p.metric("idgate_jwks_fetches_total", "result", "empty"))
}

// TestJWKSURIOnAnotherHost: a discovery document pointing jwks_uri at
// another host is refused (no keys, 401, unready) unless allowed_hosts
// names that host.
func TestJWKSURIOnAnotherHost(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	attacker := mustIdP(t, devidp.Options{})
	attackerHost := strings.TrimPrefix(attacker.Issuer(), "http://")
	idp.SetFault("discovery", devidp.Fault{Body: fmt.Sprintf(`{"issuer": %q, "jwks_uri": %q}`, idp.Issuer(), attacker.Issuer()+"/jwks")})
	// Signed by the attacker's key, claiming the real issuer.
	tok := mustMint(t, attacker, map[string]any{"sub": "u0", "email": userEmail(0), "iss": idp.Issuer()}, devidp.MintOptions{})
	req := checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})

	p := mustRun(t, baseConfig(idp, "    userinfo: false", ""))
	if !wait.Poll(5*time.Second, func() bool { return p.metric("idgate_jwks_fetches_total", "result", "refused") >= 1 }) {
		t.Fatal("the foreign jwks_uri was not refused")
	}
	if resp := p.mustCheck(req); codes.Code(resp.GetStatus().GetCode()) == codes.OK || resp.GetDeniedResponse().GetStatus().GetCode() != 401 {
		t.Fatalf("token signed by the foreign key set: %v", resp.GetStatus())
	}
	if st := p.readyz(); st != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d, want 503", st)
	}
	if n := attacker.JWKSCalls(); n != 0 {
		t.Fatalf("idgate fetched the foreign key set %d times", n)
	}

	allowed := mustRun(t, baseConfig(idp, "    userinfo: false\n    allowed_hosts: ["+attackerHost+"]", ""))
	allowed.mustReady(10 * time.Second)
	if resp := allowed.mustCheck(req); codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Fatalf("with allowed_hosts the key set is trusted: %v", resp.GetStatus())
	}
}

// headerValue is the value of name among hs ("" when absent).
func headerValue(hs []*corev3.HeaderValueOption, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.GetHeader().GetKey(), name) {
			return h.GetHeader().GetValue()
		}
	}
	return ""
}

func mustGet(t testing.TB, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// refetch sends an unknown-kid Check until idgate has fetched the key set
// once more (a Check within tokens.refresh_min_interval of the last fetch
// waits for, or misses, the next one).
func refetch(t *testing.T, p *proc, unknownKid *authv3.CheckRequest) {
	t.Helper()
	fetches := p.metric("idgate_jwks_fetches_total")
	wait.Within(t, 10*time.Second, "a forced key-set refetch", func() bool {
		p.mustCheck(unknownKid)
		return p.metric("idgate_jwks_fetches_total") > fetches
	})
}
