package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSignOutAlias: /oauth2/sign_out (oauth2-proxy's path, Kubeflow's
// LOGOUT_URL) ends the session exactly as the logout path does, also when
// the logout path is customised.
func TestSignOutAlias(t *testing.T) {
	tests := []struct {
		name       string
		logoutPath string
	}{
		{name: "default logout path", logoutPath: ""},
		{name: "customised logout path", logoutPath: "/auth/bye"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{edit: func(c *Config) {
				if tc.logoutPath != "" {
					c.LogoutPath = tc.logoutPath
				}
			}})
			ctx := t.Context()
			b := newBrowser()
			e.MustLogin(b, "/")
			if _, ok := e.flow.Session(ctx, b.get("/")); !ok {
				t.Fatal("no session after login")
			}
			for _, path := range []string{"/oauth2/sign_out", "/oauth2/sign_out?rd=%2F"} {
				out, ok := e.flow.Endpoint(ctx, b.get(path))
				if !ok || out.Status != http.StatusFound || out.Reason != ReasonLogout {
					t.Fatalf("GET %s = %+v, %v; want the logout", path, out, ok)
				}
				if loc := header(out, "location"); !strings.HasPrefix(loc, e.eps.EndSession+"?") || !strings.Contains(loc, "id_token_hint=") {
					t.Fatalf("GET %s location %q, want the IdP's end_session with the session's id_token_hint", path, loc)
				}
				if _, ok := e.flow.Session(ctx, b.get("/")); ok {
					t.Fatalf("GET %s left the session alive on the server", path)
				}
				b.apply(t, out.ResponseHeaders)
				if _, ok := b.cookies[sessionName]; ok {
					t.Fatalf("GET %s left the session cookie", path)
				}
				e.MustLogin(b, "/")
			}
			// The configured path still works beside the alias.
			logout := e.flow.cfg.LogoutPath
			out, ok := e.flow.Endpoint(ctx, b.get(logout))
			if !ok || out.Reason != ReasonLogout {
				t.Fatalf("GET %s = %+v, %v", logout, out, ok)
			}
			if _, ok := e.flow.Endpoint(ctx, b.get("/oauth2/sign_outx")); ok {
				t.Fatal("a path that only starts with the alias was answered")
			}
		})
	}
}

// TestSignOutCannotBeTheCallback: the alias is reserved.
func TestSignOutCannotBeTheCallback(t *testing.T) {
	cfg := MustEnv(t, envOptions{}).flow.cfg
	cfg.CallbackPath = SignOutPath
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "callback_path") {
		t.Fatalf("New = %v, want a callback_path error", err)
	}
}

// TestAuthorizationEndpointPath: a path-form authorization endpoint
// ("/dex/auth", Dex behind Kubeflow's gateway) is resolved on the request's
// own scheme and host; a path that could leave that host is never
// redirected to.
func TestAuthorizationEndpointPath(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		scheme   string
		host     string
		want     string // location without query; "" expects 503
	}{
		{name: "https gateway", endpoint: "/dex/auth", scheme: "https", host: appHost, want: "https://" + appHost + "/dex/auth"},
		{name: "port-forwarded http", endpoint: "/dex/auth", scheme: "http", host: "localhost:8080", want: "http://localhost:8080/dex/auth"},
		{name: "path with its own query", endpoint: "/dex/auth?connector_id=ldap", scheme: "https", host: appHost, want: "https://" + appHost + "/dex/auth"},
		{name: "protocol-relative", endpoint: "//evil.example/auth", scheme: "https", host: appHost},
		{name: "backslash", endpoint: "/\\evil.example/auth", scheme: "https", host: appHost},
		{name: "encoded slash", endpoint: "/%2Fevil.example/auth", scheme: "https", host: appHost},
		{name: "tab", endpoint: "/\t/evil.example/auth", scheme: "https", host: appHost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{})
			e.eps.Authorization = tc.endpoint
			req := newBrowser().get("/notebooks")
			req.Scheme, req.Host = tc.scheme, tc.host
			r := e.flow.Start(t.Context(), req)
			loc := header(r, "location")
			if tc.want == "" {
				if r.Status != http.StatusServiceUnavailable || loc != "" {
					t.Fatalf("Start = %d %q, want 503 and no redirect", r.Status, loc)
				}
				return
			}
			u, err := url.Parse(loc)
			if r.Status != http.StatusFound || err != nil {
				t.Fatalf("Start = %d %q", r.Status, loc)
			}
			q := u.Query()
			u.RawQuery = ""
			if u.String() != tc.want {
				t.Fatalf("location = %s, want %s?...", loc, tc.want)
			}
			if got := q.Get("redirect_uri"); got != tc.scheme+"://"+tc.host+"/oauth2/callback" {
				t.Errorf("redirect_uri = %q", got)
			}
			if strings.Contains(tc.endpoint, "connector_id") && q.Get("connector_id") != "ldap" {
				t.Errorf("the endpoint's own query was lost: %s", loc)
			}
		})
	}
}

// TestLogoutOnlyToWebEndSession: an end_session_endpoint that is not an
// absolute http(s) URL (a discovery document saying javascript: or
// data:) is never a redirect target; logout goes where it would without one.
func TestLogoutOnlyToWebEndSession(t *testing.T) {
	tests := []struct {
		name, endSession, want string
	}{
		{"https", "https://idp.example/logout", "https://idp.example/logout?"},
		{"javascript", "javascript:alert(document.cookie)", "https://app.example/bye"},
		{"data", "data:text/html,hi", "https://app.example/bye"},
		{"relative", "/logout", "https://app.example/bye"},
		{"no host", "https:///logout", "https://app.example/bye"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{edit: func(c *Config) {
				c.PostLogoutRedirectURL = "https://app.example/bye"
				discovered := c.Endpoints
				c.Endpoints = func() (Endpoints, bool) {
					eps, ok := discovered()
					eps.EndSession = tc.endSession
					return eps, ok
				}
			}})
			b := newBrowser()
			e.MustLogin(b, "/")
			out, ok := e.flow.Endpoint(t.Context(), b.get("/oauth2/sign_out"))
			if !ok || out.Reason != ReasonLogout {
				t.Fatalf("sign_out = %+v, %v", out, ok)
			}
			if loc := header(out, "location"); !strings.HasPrefix(loc, tc.want) {
				t.Fatalf("location %q, want it to start with %q", loc, tc.want)
			}
		})
	}
}
