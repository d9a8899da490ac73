package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// kubeflowDex is the issuer of Kubeflow's in-cluster Dex.
const kubeflowDex = "http://dex.auth.svc.cluster.local:5556/dex"

// dexPaths maps Dex's paths to devidp's.
var dexPaths = map[string]string{"/dex/auth": "/authorize", "/dex/token": "/token", "/dex/keys": "/jwks",
	"/dex/userinfo": "/userinfo", "/dex/.well-known/openid-configuration": "/.well-known/openid-configuration"}

// clusterNetwork answers for dex.auth.svc.cluster.local with a devidp, as
// the cluster's DNS and Dex's Service would, and records each path idgate
// asks for.
type clusterNetwork struct {
	idp   *url.URL
	mu    sync.Mutex
	paths []string
}

func (c *clusterNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "dex.auth.svc.cluster.local:5556" {
		return nil, fmt.Errorf("no route to %s", r.URL.Host)
	}
	c.mu.Lock()
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.URL.Path, r.Host = c.idp.Scheme, c.idp.Host, dexPaths[r.URL.Path], ""
	return http.DefaultTransport.RoundTrip(r)
}

func (c *clusterNetwork) asked() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.paths, " ")
}

// TestKubeflowInClusterDex runs the browser login of a stock Kubeflow:
// Dex at its in-cluster plain-http issuer (insecure_http, skip_discovery,
// keys and token endpoint inside the cluster), its authorization endpoint
// reached by the browser through the gateway at /dex/auth, groups only for
// the groups scope. The login completes, the user gets kubeflow-groups,
// /oauth2/sign_out ends the session, a warning names the insecure issuer,
// and the discovery document is never fetched.
func TestKubeflowInClusterDex(t *testing.T) {
	idp, err := devidp.Start(devidp.Options{Issuer: kubeflowDex, ClientID: "kubeflow-oidc-authservice", GroupsNeedScope: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	idpURL, _ := url.Parse(idp.URL())
	cluster := &clusterNetwork{idp: idpURL}
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0"}
issuers:
  - issuer: %[1]s
    audiences: [kubeflow-oidc-authservice]
    insecure_http: true
    skip_discovery: true
    jwks_uri: %[1]s/keys
    userinfo: false
login:
  issuer: %[1]s
  client_id: kubeflow-oidc-authservice
  client_secret: %[2]s
  authorization_endpoint: /dex/auth
  token_endpoint: %[1]s/token
  scopes: [openid, email, profile, groups, offline_access]
  cookie: {secure: false}
  session_key: "0123456789abcdef0123456789abcdef-test-only"
`, kubeflowDex, idp.ClientSecret())), nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs testlog.Buffer
	a, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), HTTPClient: &http.Client{Transport: cluster}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	wait.For(t, "Dex's keys", a.Ready)
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"issuer allows plain http (insecure_http)`) ||
		!strings.Contains(logs.String(), `"issuer":"`+kubeflowDex+`"`) {
		t.Errorf("no start-up warning naming the insecure issuer:\n%s", logs.String())
	}

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%s groups=%s", r.Header.Get("Kubeflow-Userid"), r.Header.Get("Kubeflow-Groups"))
	}))
	t.Cleanup(upstream.Close)
	upURL, _ := url.Parse(upstream.URL)
	front := &envoysim.Front{Check: authv3.NewAuthorizationClient(conn), Upstream: upURL}
	toDex := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { // Kubeflow's gateway route to Dex
		r.SetURL(idpURL)
		r.Out.URL.Path = dexPaths[r.In.URL.Path]
	}}
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/dex/") {
			toDex.ServeHTTP(w, r)
			return
		}
		front.ServeHTTP(w, r)
	}))
	t.Cleanup(gateway.Close)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	r, _ := get(gateway.URL + "/pipelines/")
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, gateway.URL+"/dex/auth?") ||
		!strings.Contains(loc, "scope=openid+email+profile+groups+offline_access") {
		t.Fatalf("browser without a session: %d %q, want a redirect to the gateway's /dex/auth", r.StatusCode, loc)
	}
	r, _ = get(loc) // Dex, through the gateway, logs the default user in
	r, _ = get(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/pipelines/" {
		t.Fatalf("callback: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if _, body := get(gateway.URL + "/pipelines/"); body != "user=dev@example.com groups=admins,dev" {
		t.Fatalf("logged in: upstream saw %q", body)
	}
	if r, _ := get(gateway.URL + "/oauth2/sign_out"); r.StatusCode != http.StatusFound {
		t.Fatalf("sign_out: %d", r.StatusCode)
	}
	if r, _ := get(gateway.URL + "/pipelines/"); r.StatusCode != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/dex/auth?") {
		t.Fatalf("after sign_out: %d %q, want a new login", r.StatusCode, r.Header.Get("Location"))
	}
	if got := cluster.asked(); strings.Contains(got, "well-known") || !strings.Contains(got, "/dex/token") || !strings.Contains(got, "/dex/keys") {
		t.Errorf("idgate asked Dex for %q; want keys and token, never discovery", got)
	}
}
