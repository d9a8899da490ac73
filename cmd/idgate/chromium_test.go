package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
)

// loginConfig is idgate with browser login against idp, on plain HTTP
// loopback (so the cookie is not Secure).
func loginConfig(idp *devidp.Provider) string {
	return fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: %[1]s
    audiences: [%[2]s]
login:
  issuer: %[1]s
  client_id: %[2]s
  client_secret: %[3]s
  cookie: {secure: false}
  session_key: "0123456789abcdef0123456789abcdef-test-only"
routes:
  - {path_prefix: /healthz, public: true}
`, idp.Issuer(), idp.ClientID(), idp.ClientSecret())
}

// browserWorld is idgate with login, behind a Go front that calls Check as
// Envoy does, in front of an upstream that echoes what it was given.
func browserWorld(t *testing.T) (front string, idp *devidp.Provider) {
	t.Helper()
	idp = mustIdP(t)
	idp.SetDefaultUser(map[string]any{"sub": "dev-1", "email": "dev@example.com", "name": "Dev One", "groups": []string{"ml"}})
	idg := mustStart(t, loginConfig(idp))
	idg.waitReady(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><body><p id=user>hello %s</p><p id=path>path=%s</p><p id=cookie>cookie=%s</p></body></html>",
			r.Header.Get("Kubeflow-Userid"), r.URL.RequestURI(), r.Header.Get("Cookie"))
	}))
	t.Cleanup(app.Close)
	u, _ := url.Parse(app.URL)
	f := httptest.NewServer(&envoysim.Front{Check: idg.client, Upstream: u})
	t.Cleanup(f.Close)
	return f.URL, idp
}

func TestBrowserLoginWithChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("chromium not found: run `apt-get install -y chromium` (scripts/test does)")
	}
	front, _ := browserWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", front+"/runs/42?tab=logs")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{"hello dev@example.com", "path=/runs/42?tab=logs"} {
		if !strings.Contains(dom, want) {
			t.Fatalf("the browser did not land logged in on the original page: %q missing from\n%s", want, dom)
		}
	}
	if strings.Contains(dom, "idgate_session") {
		t.Fatalf("the upstream saw idgate's session cookie:\n%s", dom)
	}
}

// TestBrowserLoginRoundTrip walks the same flow with a Go client and a
// cookie jar, checking each hop.
func TestBrowserLoginRoundTrip(t *testing.T) {
	front, _ := browserWorld(t)
	jar := newJar(t)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string, accept string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(front+"/api/v1/runs", "application/json"); r.StatusCode != 401 {
		t.Fatalf("API caller without token: %d, want 401", r.StatusCode)
	}
	r := get(front+"/runs?x=1", "text/html")
	loc := r.Header.Get("Location")
	if r.StatusCode != 302 || !strings.Contains(loc, "code_challenge_method=S256") || !strings.Contains(loc, "state=") {
		t.Fatalf("browser without session: %d %s", r.StatusCode, loc)
	}
	r = get(loc, "text/html") // the IdP logs the default user in
	r = get(r.Header.Get("Location"), "text/html")
	if r.StatusCode != 302 || r.Header.Get("Location") != "/runs?x=1" {
		t.Fatalf("callback: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", front+"/runs?x=1", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hello dev@example.com") {
		t.Fatalf("with the session cookie: %d %s", resp.StatusCode, body)
	}
	if r := get(front+"/oauth2/logout", "text/html"); r.StatusCode != 302 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r := get(front+"/runs?x=1", "text/html"); r.StatusCode != 302 {
		t.Fatalf("after logout: %d, want a new login", r.StatusCode)
	}
}
