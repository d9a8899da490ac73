package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
	"github.com/idgate/idgate/internal/testkit/redistest"
)

// Istio's sidecar reports the mTLS peer as spiffe://<trust domain>/ns/<ns>/sa/<sa>.
const (
	uiPeer       = "spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline-ui"
	dashPeer     = "spiffe://cluster.local/ns/kubeflow/sa/centraldashboard"
	swfPeer      = "spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline-scheduledworkflow"
	notebookPeer = "spiffe://cluster.local/ns/kubeflow-user-example-com/sa/default-editor"
	notebookSA   = "system:serviceaccount:kubeflow-user-example-com:default-editor"
	kfUser       = "user@example.com"
)

// kubeflowWorld is idgate running deploy/kubeflow/config.yaml, the
// configuration the Kubeflow component ships, with its in-cluster URLs
// pointed at test IdPs (Dex's stand-in, the cluster's service-account
// issuer), its secrets in files and a real Redis.
type kubeflowWorld struct {
	dex, k8s *devidp.Provider
	idg      *instance
}

func mustKubeflowWorld(t *testing.T) *kubeflowWorld {
	t.Helper()
	dex, err := devidp.Start(devidp.Options{ClientID: "kubeflow-oidc-authservice", GroupsNeedScope: true,
		DefaultUser: map[string]any{"sub": "15841185641784", "email": kfUser, "email_verified": true, "groups": []string{"kubeflow-users"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dex.Close() })
	w := &kubeflowWorld{dex: dex, k8s: mustIdP(t)}
	raw, err := os.ReadFile("../../deploy/kubeflow/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{"client-secret": dex.ClientSecret(), "session-key": strings.Repeat("s", 48)} {
		if err := writeFile(filepath.Join(dir, name), content); err != nil {
			t.Fatal(err)
		}
	}
	const inClusterDex, apiserver = "http://dex.auth.svc.cluster.local:5556/dex", "https://kubernetes.default.svc.cluster.local"
	cfg := strings.NewReplacer(
		inClusterDex+"/keys", dex.Issuer()+"/jwks",
		inClusterDex+"/token", dex.Issuer()+"/token",
		"authorization_endpoint: /dex/auth", "authorization_endpoint: "+dex.Issuer()+"/authorize", // the gateway's /dex/ route, here direct
		inClusterDex, dex.Issuer(),
		apiserver+"/openid/v1/jwks", w.k8s.Issuer()+"/jwks",
		apiserver, w.k8s.Issuer(),
		`":9001"`, `"127.0.0.1:0"`, `":8080"`, `"127.0.0.1:0"`,
		"  key_file: /var/run/secrets/idgate/signing-key.pem\n", "", // a generated key
		"/var/run/secrets/idgate/", dir+"/",
		"secure: true", "secure: false", // plain http on loopback: Go's cookie jar sends no Secure cookie
		`addrs: ["idgate-redis:6379"]`, fmt.Sprintf("addrs: [%q]", redistest.Start(t).Addr()),
		"  password_file: /var/run/secrets/idgate/redis-password\n", "", // under redis:
	).Replace(string(raw))
	for _, gone := range []string{"svc.cluster.local", "/var/run/secrets", "redis-password"} {
		if strings.Contains(cfg, gone) {
			t.Fatalf("deploy/kubeflow/config.yaml changed: %q left in the test's copy:\n%s", gone, cfg)
		}
	}
	w.idg = mustStart(t, cfg)
	w.idg.waitReady(t)
	return w
}

// saToken is a projected service-account token as the kubelet mounts it.
func (w *kubeflowWorld) saToken(t *testing.T, sub, aud string) string {
	return mustMint(t, w.k8s, map[string]any{"sub": sub, "aud": []string{aud}}, "RS256")
}

// workloadCheck is the CheckRequest the ml-pipeline (or kfam) sidecar sends
// for a request from peer ("" for a plaintext one) with these header lines.
func workloadCheck(peer, host, path string, hs []envoysim.Header) *authv3.CheckRequest {
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "POST", Host: host, Path: path, Headers: envoysim.CheckHeaders(hs)},
	}}}
	if peer != "" {
		req.Attributes.Source = &authv3.AttributeContext_Peer{Principal: peer}
	}
	return req
}

// TestKubeflowRequestMatrix: every caller of ml-pipeline (and kfam) in a
// real Kubeflow, through the real binary over gRPC with source.principal
// set as Istio's sidecar sets it. An allowed request reaches the upstream
// with exactly one kubeflow-userid, the right one.
func TestKubeflowRequestMatrix(t *testing.T) {
	w := mustKubeflowWorld(t)
	userTok := mustMint(t, w.dex, map[string]any{"sub": "15841185641784", "aud": "kubeflow-oidc-authservice", "email": kfUser, "email_verified": true}, "RS256")
	swfTok := w.saToken(t, saSubject, "pipelines.kubeflow.org")
	nbTok := w.saToken(t, notebookSA, "pipelines.kubeflow.org")
	const kfp, kfpGRPC, kfam = "ml-pipeline.kubeflow.svc.cluster.local:8888", "ml-pipeline.kubeflow.svc.cluster.local:8887", "profiles-kfam.kubeflow.svc.cluster.local:8081"
	h := func(kv ...string) []envoysim.Header {
		var out []envoysim.Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, envoysim.Header{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name    string
		peer    string
		host    string
		path    string
		headers []envoysim.Header
		status  int    // 0: allowed
		user    string // the one kubeflow-userid the upstream gets
	}{
		{"KFP SDK with a user's token, via ml-pipeline-ui", uiPeer, kfp, "/apis/v2beta1/runs", h("authorization", "Bearer "+userTok, "kubeflow-userid", "admin@example.com"), 0, kfUser},
		{"in-notebook SDK with its projected token", notebookPeer, kfp, "/apis/v2beta1/runs", h("authorization", "Bearer "+nbTok), 0, notebookSA},
		{"in-notebook SDK asserting another user beside its token", notebookPeer, kfp, "/apis/v2beta1/runs", h("authorization", "Bearer "+nbTok, "kubeflow-userid", kfUser), 0, notebookSA},
		{"scheduled-workflow controller, honest", swfPeer, kfpGRPC, "/api.RunService/CreateRun", h("authorization", "Bearer "+swfTok, "kubeflow-userid", saSubject), 0, saSubject},
		{"scheduled-workflow controller, forging a user", swfPeer, kfpGRPC, "/api.RunService/CreateRun", h("authorization", "Bearer "+swfTok, "kubeflow-userid", kfUser), 0, saSubject},
		{"scheduled-workflow controller, forging in copies and spellings", swfPeer, kfpGRPC, "/api.RunService/CreateRun",
			h("authorization", "Bearer "+swfTok, "Kubeflow-Userid", kfUser, "kubeflow-userid", "admin@example.com", "kubeflow_userid", kfUser), 0, saSubject},
		{"ml-pipeline-ui forwarding the user", uiPeer, kfp, "/apis/v2beta1/experiments", h("kubeflow-userid", kfUser, "kubeflow-groups", "admins"), 0, kfUser},
		{"ml-pipeline-ui forwarding over gRPC", uiPeer, kfpGRPC, "/api.ExperimentService/ListExperiments", h("kubeflow-userid", kfUser), 0, kfUser},
		{"centraldashboard to kfam", dashPeer, kfam, "/kfam/v1/bindings?namespace=kubeflow-user-example-com", h("kubeflow-userid", kfUser), 0, kfUser},
		{"ml-pipeline-ui forwarding two users", uiPeer, kfp, "/apis/v2beta1/runs", h("kubeflow-userid", kfUser, "Kubeflow-Userid", "admin@example.com"), 400, ""},
		{"ml-pipeline-ui forwarding an underscore spelling too", uiPeer, kfp, "/apis/v2beta1/runs", h("kubeflow-userid", kfUser, "kubeflow_userid", "admin@example.com"), 400, ""},
		{"a notebook pod asserting a user without a token", notebookPeer, kfp, "/apis/v2beta1/runs", h("kubeflow-userid", kfUser), 401, ""},
		{"the controller without its token", swfPeer, kfpGRPC, "/api.RunService/CreateRun", h("kubeflow-userid", saSubject), 401, ""},
		{"a plaintext peer asserting a user", "", kfp, "/apis/v2beta1/runs", h("kubeflow-userid", kfUser, "x-forwarded-client-cert", "By=spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline;URI="+uiPeer), 401, ""},
		{"the SA token with an audience KFP does not use", notebookPeer, kfp, "/apis/v2beta1/runs", h("authorization", "Bearer "+w.saToken(t, notebookSA, "other")), 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := check(t, w.idg, workloadCheck(tc.peer, tc.host, tc.path, tc.headers))
			if tc.status != 0 {
				d := resp.GetDeniedResponse()
				if d == nil || int(d.GetStatus().GetCode()) != tc.status {
					t.Fatalf("got %v %q, want a %d denial", d.GetStatus(), resp.GetStatus().GetMessage(), tc.status)
				}
				return
			}
			if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
				t.Fatalf("denied: %v %q", resp.GetDeniedResponse().GetStatus(), resp.GetStatus().GetMessage())
			}
			for _, order := range []envoysim.Order{envoysim.SetThenRemove, envoysim.RemoveThenSet} {
				up := envoysim.Apply(tc.headers, resp.GetOkResponse(), order)
				assertOneUser(t, up, tc.user)
			}
		})
	}
	body := get(t, "http://"+w.idg.httpAddr+"/metrics")
	for _, want := range []string{`idgate_forwarded_total{principal="` + uiPeer + `"} 2`, `idgate_forwarded_total{principal="` + dashPeer + `"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	w.idg.eventually(t, "a decision line naming the forwarder", func() bool {
		return strings.Contains(w.idg.logs.String(), `"forwarder":"`+uiPeer+`"`)
	})
}

// assertOneUser: exactly one kubeflow-userid, in any spelling, and it is want.
func assertOneUser(t *testing.T, up []envoysim.Header, want string) {
	t.Helper()
	var got []string
	for _, hd := range up {
		if n := strings.ToLower(strings.ReplaceAll(hd.Name, "_", "-")); n == "kubeflow-userid" {
			got = append(got, hd.Value)
		}
	}
	if !slices.Equal(got, []string{want}) {
		t.Fatalf("upstream kubeflow-userid = %q, want exactly [%q]", got, want)
	}
}

// TestKubeflowBrowserThroughGatewayAndUI: a browser logs in at the gateway
// (no peer principal), forging kubeflow-userid all along; the gateway's
// upstream (ml-pipeline-ui) sees the logged-in user once, and ml-pipeline-ui
// forwarding that header to ml-pipeline passes it on unchanged. The
// dashboard's logout URL, /oauth2/sign_out, ends the session.
func TestKubeflowBrowserThroughGatewayAndUI(t *testing.T) {
	w := mustKubeflowWorld(t)
	var mu sync.Mutex
	var seen [][]string
	ui := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Values("Kubeflow-Userid"))
		mu.Unlock()
		fmt.Fprint(rw, "ok")
	}))
	t.Cleanup(ui.Close)
	u, _ := url.Parse(ui.URL)
	gw := httptest.NewServer(&envoysim.Front{Check: w.idg.client, Upstream: u})
	t.Cleanup(gw.Close)
	c := &http.Client{Jar: newJar(t)}
	do := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", gw.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Add("Kubeflow-Userid", "admin@example.com")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := do("/pipeline/"); r.StatusCode != 200 {
		t.Fatalf("login through the gateway ended with %d", r.StatusCode)
	}
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	if !slices.Equal(last, []string{kfUser}) {
		t.Fatalf("ml-pipeline-ui got kubeflow-userid %q, want exactly [%s]", last, kfUser)
	}
	hop := []envoysim.Header{{Name: "kubeflow-userid", Value: last[0]}, {Name: "kubeflow-userid", Value: "admin@example.com"}}
	if resp := check(t, w.idg, workloadCheck(uiPeer, "ml-pipeline.kubeflow:8888", "/apis/v2beta1/runs", hop[:1])); resp.GetOkResponse() == nil {
		t.Fatalf("ml-pipeline-ui forwarding the logged-in user: %q", resp.GetStatus().GetMessage())
	} else {
		assertOneUser(t, envoysim.Apply(hop[:1], resp.GetOkResponse(), envoysim.SetThenRemove), kfUser)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r := do("/oauth2/sign_out"); r.StatusCode != http.StatusFound {
		t.Fatalf("/oauth2/sign_out: %d", r.StatusCode)
	}
	if r := do("/pipeline/"); r.StatusCode != http.StatusFound {
		t.Fatalf("after sign-out: %d, want a new login", r.StatusCode)
	}
}
