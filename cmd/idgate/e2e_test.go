package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
)

const saSubject = "system:serviceaccount:kubeflow:ml-pipeline-scheduledworkflow"

type world struct {
	corp, k8s *devidp.Provider
	idg       *instance
}

func mustWorld(t *testing.T) *world {
	t.Helper()
	w := &world{corp: mustIdP(t), k8s: mustIdP(t)}
	w.corp.SetUserinfo("alice", map[string]any{"email": "alice@example.com", "name": "Alice Liddell", "groups": []string{"admins", "ml"}})
	w.idg = mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: %s
    audiences: [flyte, kubeflow]
  - issuer: %s
    audiences: [idgate]
    user_claim: sub
    userinfo: false
outputs:
  strip_headers: [X-Remote-User]
routes:
  - {path_prefix: /healthz, public: true}
  - {path_prefix: /admin, allow_groups: [admins]}
`, w.corp.Issuer(), w.k8s.Issuer()))
	w.idg.waitReady(t)
	return w
}

func (w *world) alice(t *testing.T) string {
	return mustMint(t, w.corp, map[string]any{"sub": "alice", "aud": "kubeflow"}, "RS256")
}

func checkRequest(path string, headers map[string]string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Host: "runs.example.com", Path: path, Headers: headers},
	}}}
}

// spoofs are client-supplied identity headers in assorted letter cases.
var spoofs = []string{"kubeflow-userid", "Kubeflow-Userid", "KUBEFLOW-USERID", "kubeflow-groups",
	"X-Flyte-Identity", "x-amzn-oidc-data", "X-Amzn-Oidc-Identity", "x-amzn-oidc-accesstoken",
	"x-forwarded-user", "X-Forwarded-Email", "x-forwarded-groups", "x-auth-request-user",
	"X-Auth-Request-Whatever", "x-remote-user"}

func TestSpoofedHeadersNeverReachUpstream(t *testing.T) {
	w := mustWorld(t)
	tok := w.alice(t)
	for _, path := range []string{"/api/v1/runs", "/healthz"} {
		for copies := 1; copies <= 3; copies++ {
			for _, envoyLike := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/copies=%d/envoy=%v", path, copies, envoyLike), func(t *testing.T) {
					req := []envoysim.Header{{Name: "authorization", Value: "Bearer " + tok}, {Name: "accept", Value: "*/*"}}
					for _, s := range spoofs {
						for i := 0; i < copies; i++ {
							req = append(req, envoysim.Header{Name: s, Value: fmt.Sprintf("root%d@example.com", i)})
						}
					}
					m := envoysim.CheckHeaders(req)
					if !envoyLike { // a client that keeps the letter case, one copy per spelling
						m = map[string]string{}
						for _, h := range req {
							m[h.Name] = h.Value
						}
					}
					resp := check(t, w.idg, checkRequest(path, m))
					if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
						t.Fatalf("denied: %v", resp.GetDeniedResponse())
					}
					for _, order := range []envoysim.Order{envoysim.SetThenRemove, envoysim.RemoveThenSet} {
						up := envoysim.Apply(req, resp.GetOkResponse(), order)
						w.assertClean(t, up, path != "/healthz")
					}
				})
			}
		}
	}
}

// assertClean checks the upstream headers: no spoofed value survives, and on
// an authenticated route exactly one clean identity of each kind.
func (w *world) assertClean(t *testing.T, up []envoysim.Header, authenticated bool) {
	t.Helper()
	for _, s := range spoofs {
		for _, v := range envoysim.Values(up, s) {
			if strings.HasPrefix(v, "root") {
				t.Fatalf("spoofed %s: %s reached upstream", s, v)
			}
		}
	}
	users := envoysim.Values(up, "kubeflow-userid")
	if !authenticated {
		if len(users) != 0 || len(envoysim.Values(up, "x-flyte-identity")) != 0 {
			t.Fatalf("public route carries identity: %v", up)
		}
		return
	}
	if !slices.Equal(users, []string{"alice@example.com"}) {
		t.Fatalf("kubeflow-userid = %q, want exactly one alice@example.com", users)
	}
	if g := envoysim.Values(up, "kubeflow-groups"); !slices.Equal(g, []string{"admins,ml"}) {
		t.Fatalf("kubeflow-groups = %q", g)
	}
	flyte := envoysim.Values(up, "x-flyte-identity")
	if len(flyte) != 1 {
		t.Fatalf("x-flyte-identity = %q", flyte)
	}
	w.verifyFlyte(t, flyte[0])
}

// verifyFlyte checks x-flyte-identity the way the Flyte runs service would:
// with an independent JWT library and only idgate's published JWKS.
func (w *world) verifyFlyte(t *testing.T, tok string) {
	t.Helper()
	set, err := jwk.Fetch(context.Background(), "http://"+w.idg.httpAddr+"/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseString(tok, jwt.WithKeySet(set), jwt.WithIssuer("idgate"), jwt.WithAudience("flyte"), jwt.WithValidate(true))
	if err != nil {
		t.Fatalf("x-flyte-identity does not verify: %v", err)
	}
	email, _ := parsed.Get("email")
	name, _ := parsed.Get("name")
	idp, _ := parsed.Get("idp")
	if parsed.Subject() != "alice" || email != "alice@example.com" || name != "Alice Liddell" || idp != w.corp.Issuer() {
		t.Fatalf("claims: sub=%s email=%v name=%v idp=%v", parsed.Subject(), email, name, idp)
	}
	if life := time.Until(parsed.Expiration()); life > 5*time.Minute+time.Second || life <= 0 {
		t.Fatalf("x-flyte-identity lives %v", life)
	}
}

func TestServiceAccountToken(t *testing.T) {
	w := mustWorld(t)
	tok := mustMint(t, w.k8s, map[string]any{"sub": saSubject, "aud": []string{"idgate"},
		"kubernetes.io": map[string]any{"namespace": "kubeflow"}}, "RS256")
	resp := check(t, w.idg, checkRequest("/apis/v2beta1/runs", map[string]string{"authorization": "Bearer " + tok, "kubeflow-userid": "admin@example.com"}))
	up := envoysim.Apply([]envoysim.Header{{Name: "kubeflow-userid", Value: "admin@example.com"}}, resp.GetOkResponse(), envoysim.SetThenRemove)
	if got := envoysim.Values(up, "kubeflow-userid"); !slices.Equal(got, []string{saSubject}) {
		t.Fatalf("kubeflow-userid = %q, want %q", got, saSubject)
	}
}

func TestRefusalsOverGRPC(t *testing.T) {
	w := mustWorld(t)
	now := time.Now()
	mint := func(claims map[string]any, alg string) string { return mustMint(t, w.corp, claims, alg) }
	hs, err := w.corp.MintHS256WithPublicKey(map[string]any{"sub": "alice", "aud": "kubeflow"})
	if err != nil {
		t.Fatal(err)
	}
	good := w.alice(t)
	tests := []struct {
		name   string
		path   string
		authz  string
		status int
		reason string
	}{
		{"missing", "/api", "", 401, "missing_token"},
		{"not a jwt", "/api", "Bearer abc", 401, "malformed"},
		{"expired", "/api", "Bearer " + mint(map[string]any{"sub": "alice", "aud": "kubeflow", "exp": now.Add(-time.Hour).Unix()}, "RS256"), 401, "expired"},
		{"wrong audience", "/api", "Bearer " + mint(map[string]any{"sub": "alice", "aud": "other"}, "ES256"), 401, "audience"},
		{"alg none", "/api", "Bearer " + w.corp.MintNone(map[string]any{"sub": "alice", "aud": "kubeflow"}), 401, "algorithm"},
		{"hs256 with public key", "/api", "Bearer " + hs, 401, "algorithm"},
		{"tampered", "/api", "Bearer " + good[:len(good)-4] + "AAAA", 401, "signature"},
		{"admin needs group", "/admin", "Bearer " + mint(map[string]any{"sub": "bob", "aud": "flyte", "email": "bob@example.com"}, "PS256"), 403, "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.authz != "" {
				h["authorization"] = tc.authz
			}
			resp := check(t, w.idg, checkRequest(tc.path, h))
			d := resp.GetDeniedResponse()
			if d == nil || int(d.GetStatus().GetCode()) != tc.status || resp.GetStatus().GetMessage() != tc.reason {
				t.Fatalf("got %v %q, want %d %q", d.GetStatus(), resp.GetStatus().GetMessage(), tc.status, tc.reason)
			}
			if strings.Contains(d.GetBody(), "eyJ") {
				t.Fatalf("body leaks a token: %q", d.GetBody())
			}
		})
	}
	if strings.Contains(w.idg.logs.String(), good[:40]) {
		t.Fatal("a token reached the log")
	}
}

func TestHTTPEndpoints(t *testing.T) {
	w := mustWorld(t)
	check(t, w.idg, checkRequest("/api", map[string]string{"authorization": "Bearer " + w.alice(t), "kubeflow-userid": "x"}))
	for path, want := range map[string]string{
		"/healthz":               "ok",
		"/readyz":                "ready",
		"/metrics":               `idgate_spoof_attempts_total{header="kubeflow-userid"} 1`,
		"/.well-known/jwks.json": `"alg":"ES256"`,
	} {
		resp, err := http.Get("http://" + w.idg.httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d, body lacks %q:\n%.600s", path, resp.StatusCode, want, body)
		}
	}
}

func TestCheckCommand(t *testing.T) {
	w := mustWorld(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--addr", w.idg.grpcAddr, "--path", "/api/v1/runs",
		"-H", "authorization: Bearer " + w.alice(t), "-H", "Kubeflow-Userid: root", "-H", "kubeflow-userid: root2"}, nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"decision: ALLOW", "set: kubeflow-userid: alice@example.com (OVERWRITE_IF_EXISTS_OR_ADD)", "remove: x-amzn-oidc-data"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	err = run(context.Background(), []string{"check", "--addr", w.idg.grpcAddr, "--path", "/api"}, nil, &out, io.Discard)
	if exitCode(err) != 3 || !strings.Contains(out.String(), "status: 401") {
		t.Fatalf("denied check: err=%v exit=%d\n%s", err, exitCode(err), out.String())
	}
}

func TestBadConfigExitsNamingTheKey(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"no audiences", "issuers: [{issuer: https://idp.example.com}]", "issuers[0].audiences: required"},
		{"unknown key", "sever: {grpc_addr: ':1'}", "sever"},
		{"http issuer", "issuers: [{issuer: http://idp.example.com, audiences: [a]}]", "issuers[0].issuer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/c.yaml"
			if err := writeFile(path, tc.yaml); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), []string{"serve", "--config", path}, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 1 {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}
