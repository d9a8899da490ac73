package forwardauth_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/app"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/rawhttp"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// upstream records the headers and request target of the last request it
// served.
type upstream struct {
	mu   sync.Mutex
	last http.Header
	uri  string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.last = r.Header.Clone()
	u.uri = r.RequestURI
	u.mu.Unlock()
	_, _ = io.WriteString(w, "upstream ok")
}

func (u *upstream) headers() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNginx runs a real nginx in front of app, asking idgate over HTTP.
func startNginx(t *testing.T, idgateAddr, appAddr string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Fatal("nginx not found: run `apt-get install -y nginx` (scripts/test does)")
		}
		bin = "/usr/sbin/nginx"
	}
	// The deployed files themselves, with only addresses and paths changed.
	prefix := t.TempDir()
	conf, err := os.ReadFile("../deploy/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	locations, err := os.ReadFile("../deploy/nginx/idgate-locations.conf")
	if err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	rendered := strings.NewReplacer("127.0.0.1:8080", idgateAddr, "127.0.0.1:8090", appAddr,
		"listen 8000;", "listen "+listen+";", "/tmp/", prefix+"/").Replace(string(conf))
	if rendered == string(conf) || !strings.Contains(rendered, "include idgate-locations.conf;") {
		t.Fatal("deploy/nginx/nginx.conf no longer has the expected shape")
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(rendered), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "idgate-locations.conf"), locations, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", prefix, "-c", confPath}
	if os.Geteuid() == 0 {
		args = append(args, "-g", "user root;") // workers must reach the 0700 temp dir
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // workers too are stopped at cleanup
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	wait.For(t, "nginx to start (its errors are on stderr)", func() bool {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return listen
}

func startIdgate(t *testing.T, issuer string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.Server.GRPCAddr, cfg.Server.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Issuers = []config.Issuer{{Issuer: issuer, Audiences: []string{"kubeflow"}, UserClaim: "email", GroupsClaim: "groups"}}
	cfg.Routes = []config.Route{{PathPrefix: "/healthz", Public: true}, {PathPrefix: "/admin", AllowGroups: []string{"admins"}}}
	// Browser login on, so idgate strips its own cookies: API clients (no
	// text/html) still get 401.
	cfg.Login.Issuer, cfg.Login.ClientID, cfg.Login.ClientSecret = issuer, "idgate-web", "test-secret"
	cfg.Login.SessionKey = "0123456789abcdef0123456789abcdef-test-only"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNginxForwardAuth(t *testing.T) {
	idp, err := devidp.Start(devidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	idg := startIdgate(t, idp.Issuer())
	up := &upstream{}
	appSrv := httptest.NewServer(up)
	defer appSrv.Close()
	front := "http://" + startNginx(t, idg.HTTPAddr(), strings.TrimPrefix(appSrv.URL, "http://"))

	alice, _ := idp.Mint(map[string]any{"sub": "alice", "aud": "kubeflow", "email": "alice@example.com", "groups": []string{"ml"}}, devidp.MintOptions{})
	forged := [][2]string{{"Kubeflow-Userid", "root@example.com"}, {"KUBEFLOW-USERID", "admin@example.com"},
		{"kubeflow-groups", "admins"}, {"X-Amzn-Oidc-Data", "forged"}, {"x-forwarded-email", "root@example.com"},
		{"X-Flyte-Identity", "forged"}, {"X-Forwarded-Uri", "/healthz"}}
	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantUser   string
	}{
		{"allowed", "/api/v1/runs", alice, 200, "alice@example.com"},
		{"public", "/healthz", "", 200, ""},
		{"no token", "/api/v1/runs", "", 401, ""},
		{"bad token", "/api/v1/runs", alice + "x", 401, ""},
		{"forbidden", "/admin/x", alice, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up.mu.Lock()
			up.last = nil
			up.mu.Unlock()
			req, _ := http.NewRequest("GET", front+tc.path, nil)
			for _, h := range forged {
				req.Header[h[0]] = append(req.Header[h[0]], h[1]) // keep the letter case
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			if tc.wantStatus == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("www-authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			got := up.headers()
			if tc.wantStatus != 200 {
				if got != nil {
					t.Fatal("a denied request reached the upstream")
				}
				return
			}
			for _, h := range forged {
				if h[0] == "X-Forwarded-Uri" {
					continue
				}
				for _, v := range got.Values(h[0]) {
					if v == h[1] {
						t.Fatalf("forged %s reached the upstream", h[0])
					}
				}
			}
			users := got.Values("Kubeflow-Userid")
			if tc.wantUser == "" {
				if len(users) != 0 {
					t.Fatalf("kubeflow-userid = %q on %s", users, tc.path)
				}
				return
			}
			if !slices.Equal(users, []string{tc.wantUser}) {
				t.Fatalf("kubeflow-userid = %q, want exactly %q", users, tc.wantUser)
			}
			if g := got.Values("Kubeflow-Groups"); !slices.Equal(g, []string{"ml"}) {
				t.Fatalf("kubeflow-groups = %q", g)
			}
			if f := got.Get("X-Flyte-Identity"); strings.Count(f, ".") != 2 {
				t.Fatalf("x-flyte-identity = %q", f)
			}
		})
	}
}

// TestNginxUpstreamSeesWhatIdgateJudged: through the deployed nginx files,
// the application gets the request target idgate decided on, never
// idgate's own cookies, never a bearer token that did not verify, and no
// "_" spelling of an identity header.
func TestNginxUpstreamSeesWhatIdgateJudged(t *testing.T) {
	idp, err := devidp.Start(devidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	idg := startIdgate(t, idp.Issuer())
	up := &upstream{}
	appSrv := httptest.NewServer(up)
	defer appSrv.Close()
	front := startNginx(t, idg.HTTPAddr(), strings.TrimPrefix(appSrv.URL, "http://"))
	alice, _ := idp.Mint(map[string]any{"sub": "alice", "aud": "kubeflow", "email": "alice@example.com"}, devidp.MintOptions{})
	bearer := "Bearer " + alice

	tests := []struct {
		name       string
		target     string
		headers    [][2]string
		wantStatus int
		check      func(t *testing.T, h http.Header, uri string)
	}{
		{"idgate cookie stripped, others kept", "/api/v1/runs", [][2]string{{"Authorization", bearer}, {"Cookie", "idgate_session=abc; theme=dark"}}, 200,
			func(t *testing.T, h http.Header, _ string) {
				if got := h.Values("Cookie"); !slices.Equal(got, []string{"theme=dark"}) {
					t.Errorf("cookie = %q, want theme=dark", got)
				}
			}},
		{"only idgate cookies: no cookie header", "/healthz", [][2]string{{"Cookie", "idgate_session=abc"}}, 200,
			func(t *testing.T, h http.Header, _ string) {
				if got := h.Values("Cookie"); len(got) != 0 {
					t.Errorf("cookie = %q, want none", got)
				}
			}},
		{"other cookies untouched", "/healthz", [][2]string{{"Cookie", "theme=dark; lang=en"}}, 200,
			func(t *testing.T, h http.Header, _ string) {
				if got := h.Values("Cookie"); !slices.Equal(got, []string{"theme=dark; lang=en"}) {
					t.Errorf("cookie = %q", got)
				}
			}},
		{"junk bearer on a public route", "/healthz", [][2]string{{"Authorization", "Bearer junk"}, {"Flyte-Authorization", "Bearer junk"}}, 200,
			func(t *testing.T, h http.Header, _ string) {
				if h.Get("Authorization") != "" || h.Get("Flyte-Authorization") != "" {
					t.Errorf("unverified token reached the application: %q %q", h.Get("Authorization"), h.Get("Flyte-Authorization"))
				}
			}},
		{"junk beside the verified token", "/api/v1/runs", [][2]string{{"Authorization", bearer}, {"Flyte-Authorization", "Bearer junk"}}, 200,
			func(t *testing.T, h http.Header, _ string) {
				if h.Get("Authorization") != bearer || h.Get("Flyte-Authorization") != "" {
					t.Errorf("authorization kept = %v, flyte-authorization = %q", h.Get("Authorization") == bearer, h.Get("Flyte-Authorization"))
				}
			}},
		{"underscore spellings dropped", "/healthz", [][2]string{{"kubeflow_groups", "admins"}, {"Kubeflow_Userid", "root"}, {"x_flyte_identity", "x"}}, 200,
			func(t *testing.T, h http.Header, _ string) {
				for n := range h {
					if strings.Contains(n, "_") {
						t.Errorf("%s reached the application", n)
					}
				}
			}},
		{"raw target passes unchanged", "/api//v1;p=1/%7Euser/a%20b?q=/../x", [][2]string{{"Authorization", bearer}}, 200,
			func(t *testing.T, _ http.Header, uri string) {
				if uri != "/api//v1;p=1/%7Euser/a%20b?q=/../x" {
					t.Errorf("application got %q", uri)
				}
			}},
		{"encoded slash dot-dot refused", "/admin/x%2F..%2F..%2Fhealthz", nil, 500, nil},
		{"encoded backslash refused", "/admin/x%5C..%5C..%5Chealthz", [][2]string{{"Authorization", bearer}}, 500, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up.mu.Lock()
			up.last, up.uri = nil, ""
			up.mu.Unlock()
			status := rawhttp.Get(t, front, "runs.example.com", tc.target, tc.headers)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d", status, tc.wantStatus)
			}
			up.mu.Lock()
			h, uri := up.last, up.uri
			up.mu.Unlock()
			if tc.check == nil {
				if h != nil {
					t.Fatal("a refused request reached the application")
				}
				return
			}
			tc.check(t, h, uri)
		})
	}
}
