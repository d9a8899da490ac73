package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
)

// shippedExtAuthzTimeout reads grpc_service.timeout of the ext_authz filter
// in deploy/envoy/envoy.yaml (deploy's own tests hold the Istio and
// Kubernetes copies equal to it).
func shippedExtAuthzTimeout(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile("../../deploy/envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`grpc_service:\s*\n\s*envoy_grpc: \{cluster_name: idgate\}\s*\n(?:\s*#[^\n]*\n)*\s*timeout: (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("deploy/envoy/envoy.yaml: ext_authz grpc_service.timeout not found")
	}
	d, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A login callback whose token endpoint takes 1s finishes inside the Check
// deadline the shipped Envoy config sets (under the old 250ms it failed, and
// the retry found its state consumed).
func TestLoginCallbackWithinShippedTimeout(t *testing.T) {
	timeout := shippedExtAuthzTimeout(t)
	idp := mustIdP(t)
	idg := mustStart(t, loginConfig(idp))
	idg.waitReady(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.Header.Get("Kubeflow-Userid"))
	}))
	t.Cleanup(app.Close)
	u, _ := url.Parse(app.URL)
	front := httptest.NewServer(&envoysim.Front{Check: idg.client, Upstream: u, Timeout: timeout})
	t.Cleanup(front.Close)

	c := &http.Client{Jar: newJar(t), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(target string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", target, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r := get(front.URL + "/runs")
	if r.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", r.StatusCode)
	}
	r = get(r.Header.Get("Location")) // the IdP logs the default user in
	idp.SetFault("token", devidp.Fault{Delay: time.Second})
	start := time.Now()
	r = get(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/runs" {
		t.Fatalf("callback with a 1s token endpoint under a %v deadline: %d %q after %v\n%s",
			timeout, r.StatusCode, r.Header.Get("Location"), time.Since(start), idg.logs)
	}
	if r := get(front.URL + "/runs"); r.StatusCode != http.StatusOK {
		t.Fatalf("after login: %d", r.StatusCode)
	}
}
