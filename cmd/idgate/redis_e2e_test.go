package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
	"github.com/idgate/idgate/internal/testkit/redistest"
)

// redisConfig is idgate in front of one IdP whose access tokens carry only
// sub (like the Flyte SDK's), with the profile cache in a shared Redis.
func redisConfig(t *testing.T, issuer, redisAddr string) string {
	return fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: %s
    audiences: [flyte]
userinfo:
  timeout: 500ms
redis:
  addrs: [%q]
  key_file: %q
`, issuer, redisAddr, mustCacheKeyFile(t))
}

// subOnlyToken is an access token with nothing but the subject.
func subOnlyToken(t *testing.T, idp *devidp.Provider, sub string) string {
	return mustMint(t, idp, map[string]any{"sub": sub, "aud": "flyte"}, "RS256")
}

func mustAllowUser(t *testing.T, in *instance, tok, wantUser string) {
	t.Helper()
	resp := check(t, in, checkRequest("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok}))
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Fatalf("denied: %v", resp.GetDeniedResponse())
	}
	up := envoysim.Apply(nil, resp.GetOkResponse(), envoysim.SetThenRemove)
	if got := envoysim.Values(up, "kubeflow-userid"); !slices.Equal(got, []string{wantUser}) {
		t.Fatalf("kubeflow-userid = %q, want %q", got, wantUser)
	}
}

func TestProfilesSharedThroughRedis(t *testing.T) {
	rds := redistest.Start(t)
	idp := mustIdP(t)
	idp.SetUserinfo("u-42", map[string]any{"email": "carol@example.com", "name": "Carol", "groups": []string{"ml", "admins"}})
	first := mustStart(t, redisConfig(t, idp.Issuer(), rds.Addr()))
	second := mustStart(t, redisConfig(t, idp.Issuer(), rds.Addr()))
	first.waitReady(t)
	second.waitReady(t)
	tok := subOnlyToken(t, idp, "u-42")

	// 100 concurrent first Checks for one new user: one userinfo call.
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() { defer wg.Done(); mustAllowUser(t, first, tok, "carol@example.com") }()
	}
	wg.Wait()
	if n := idp.UserinfoCalls(); n != 1 {
		t.Fatalf("userinfo calls after 100 concurrent first Checks = %d, want 1", n)
	}
	// The second replica finds the profile in Redis.
	mustAllowUser(t, second, tok, "carol@example.com")
	if n := idp.UserinfoCalls(); n != 1 {
		t.Fatalf("second replica called userinfo: %d calls", n)
	}
	// Warm steady state: 1,000 more Checks across both replicas, no more calls.
	for i := range 1000 {
		mustAllowUser(t, []*instance{first, second}[i%2], tok, "carol@example.com")
	}
	if n := idp.UserinfoCalls(); n != 1 {
		t.Fatalf("userinfo calls per 1,000 warm Checks = %d, want 0 more", n-1)
	}
	resp := check(t, first, checkRequest("/api", map[string]string{"authorization": "Bearer " + tok}))
	up := envoysim.Apply(nil, resp.GetOkResponse(), envoysim.SetThenRemove)
	if g := envoysim.Values(up, "kubeflow-groups"); !slices.Equal(g, []string{"admins,ml"}) {
		t.Fatalf("kubeflow-groups from userinfo = %q", g)
	}
}

func TestRedisDownEnrichmentFailsSoft(t *testing.T) {
	rds := redistest.Start(t)
	idp := mustIdP(t)
	for _, u := range []string{"u-1", "u-2", "u-3", "u-4"} {
		idp.SetUserinfo(u, map[string]any{"email": u + "@example.com"})
	}
	in := mustStart(t, redisConfig(t, idp.Issuer(), rds.Addr()))
	in.waitReady(t)
	mustAllowUser(t, in, subOnlyToken(t, idp, "u-1"), "u-1@example.com")

	rds.Kill()
	// A new user while Redis is down: userinfo is called directly.
	mustAllowUser(t, in, subOnlyToken(t, idp, "u-2"), "u-2@example.com")
	// The known user keeps working from the in-process cache.
	mustAllowUser(t, in, subOnlyToken(t, idp, "u-1"), "u-1@example.com")
	// Redis is an optimisation, not a dependency of readiness.
	resp, err := http.Get("http://" + in.httpAddr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz with Redis down: %v %v", resp, err)
	}
	resp.Body.Close()

	// The IdP's userinfo goes down too: the request still passes on the
	// token's claims, and a metric says so.
	idp.SetFault("userinfo", devidp.Fault{Status: 503})
	tok := mustMint(t, idp, map[string]any{"sub": "u-3", "aud": "flyte", "email": "u-3@token.example"}, "RS256")
	mustAllowUser(t, in, tok, "u-3@token.example")
	idp.SetFault("userinfo", devidp.Fault{})

	rds.Restart()
	mustAllowUser(t, in, subOnlyToken(t, idp, "u-4"), "u-4@example.com")
	metrics := get(t, "http://"+in.httpAddr+"/metrics")
	for _, want := range []string{`idgate_enrichment_degraded_total{reason="userinfo_status"}`, `idgate_profilecache_gets_total{result="error"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cacheKey seals the profiles every test instance shares through Redis.
const cacheKey = "cmd/idgate test key of 32+ bytes, never a real one"

// mustCacheKeyFile writes cacheKey to a file for redis.key_file.
func mustCacheKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache-key")
	if err := os.WriteFile(path, []byte(cacheKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRefusedRequestsStoreNothingInRedis: nothing a caller without a valid
// token sends makes idgate write to Redis: no profile, no lease. The real
// binary gets no token with spoofed identity headers (any case, `_` for
// `-`), a malformed token, alg none, HS256 keyed with the IdP's public key,
// a token of an issuer it does not trust and one for another audience,
// each naming a subject the IdP has a profile for. Then one valid Check
// shows the store works: Redis ends holding exactly that user's profile.
func TestRefusedRequestsStoreNothingInRedis(t *testing.T) {
	rds := redistest.Start(t)
	idp, stranger := mustIdP(t), mustIdP(t)
	for _, u := range []string{"mallory", "carol"} {
		idp.SetUserinfo(u, map[string]any{"email": u + "@example.com", "groups": []string{"admins"}})
	}
	in := mustStart(t, redisConfig(t, idp.Issuer(), rds.Addr()))
	in.waitReady(t)

	hs256, err := idp.MintHS256WithPublicKey(map[string]any{"sub": "mallory", "aud": "flyte"})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]map[string]string{
		"spoofed headers": {"kubeflow-userid": "mallory@example.com", "KUBEFLOW_USERID": "mallory@example.com",
			"x-flyte-identity": "mallory", "x_amzn_oidc_identity": "mallory"},
		"malformed token":     {"authorization": "Bearer not.a.token"},
		"alg none":            {"authorization": "Bearer " + idp.MintNone(map[string]any{"sub": "mallory", "aud": "flyte"})},
		"HS256 on public key": {"authorization": "Bearer " + hs256},
		"untrusted issuer":    {"authorization": "Bearer " + subOnlyToken(t, stranger, "mallory")},
		"other audience":      {"authorization": "Bearer " + mustMint(t, idp, map[string]any{"sub": "mallory", "aud": "elsewhere"}, "RS256")},
	}
	for name, h := range refused {
		if resp := check(t, in, checkRequest("/api/v1/runs", h)); codes.Code(resp.GetStatus().GetCode()) == codes.OK {
			t.Fatalf("%s: allowed", name)
		}
	}
	if n := idp.UserinfoCalls(); n != 0 {
		t.Fatalf("userinfo calls after refused requests = %d, want 0", n)
	}

	mustAllowUser(t, in, subOnlyToken(t, idp, "carol"), "carol@example.com")
	var keys []string
	in.eventually(t, "Redis holds only carol's profile", func() bool {
		keys, err = redistest.Do(rds.Addr(), "KEYS", "*")
		return err == nil && len(keys) == 1 && strings.HasPrefix(keys[0], "idgate:userinfo:")
	})
	if n := idp.UserinfoCalls(); n != 1 {
		t.Fatalf("userinfo calls = %d, want carol's one", n)
	}
}
