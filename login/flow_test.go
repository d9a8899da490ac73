package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/decision"
)

func TestRoundTrip(t *testing.T) {
	for _, useRedis := range []bool{false, true} {
		name := map[bool]string{false: "local", true: "redis"}[useRedis]
		t.Run(name, func(t *testing.T) {
			e := MustEnv(t, envOptions{redis: useRedis})
			ctx := t.Context()
			b := newBrowser()
			b.cookies["theme"], b.order = "dark", []string{"theme"}
			req := b.get("/notebooks/x?y=1")
			if !decision.IsBrowser(req) {
				t.Fatal("IsBrowser = false for a navigation")
			}
			if _, ok := e.flow.Session(ctx, req); ok {
				t.Fatal("Session before login = true")
			}

			start := e.flow.Start(ctx, req)
			assertAuthorizeURL(t, e, header(start, "location"))
			if c := setCookies(start); len(c) != 1 || !strings.HasPrefix(c[0], statePrefix) {
				t.Fatalf("Start cookies = %q, want the state cookie", c)
			}
			b.apply(t, start.ResponseHeaders)
			resp, ok := e.flow.Endpoint(ctx, b.get(MustAuthorize(t, start)))
			if !ok || resp.Status != http.StatusFound || header(resp, "location") != "/notebooks/x?y=1" {
				t.Fatalf("callback = %+v", resp)
			}
			assertLoginCookies(t, setCookies(resp))
			b.apply(t, resp.ResponseHeaders)
			sessionCookie := b.cookies[sessionName]

			req = b.get("/notebooks/x")
			res, ok := e.flow.Session(ctx, req)
			if !ok || res.Identity.Subject != "dev-user" || res.Identity.Email != "dev@example.com" ||
				res.Identity.Source != "session" || len(res.Identity.Groups) != 2 || res.AccessToken == "" {
				t.Fatalf("Session = %+v, %v", res, ok)
			}
			if up := e.flow.StripCookies(req.Headers["cookie"]); up != "theme=dark" || res.SetCookie != nil {
				t.Fatalf("upstream cookie = %q, SetCookie = %q", up, res.SetCookie)
			}

			e.clk.Advance(time.Hour) // the access token (expires_in 3600) has expired
			refreshed, ok := e.flow.Session(ctx, b.get("/"))
			if !ok || refreshed.AccessToken == res.AccessToken || refreshed.Identity.Subject != "dev-user" {
				t.Fatalf("Session after expiry = %v, token changed %v", ok, refreshed.AccessToken != res.AccessToken)
			}
			if !refreshed.Identity.ExpiresAt.Equal(e.clk.Now().Add(time.Hour)) {
				t.Fatalf("ExpiresAt = %v, want the new token's expiry", refreshed.Identity.ExpiresAt)
			}
			again, ok := e.flow.Session(ctx, b.get("/"))
			if !ok || again.AccessToken != refreshed.AccessToken {
				t.Fatal("a second request refreshed again")
			}

			out, ok := e.flow.Endpoint(ctx, b.get("/oauth2/logout"))
			if !ok || out.Status != http.StatusFound {
				t.Fatalf("logout = %+v", out)
			}
			assertEndSession(t, e, header(out, "location"))
			b.apply(t, out.ResponseHeaders)
			if _, ok := b.cookies[sessionName]; ok {
				t.Fatal("logout left the session cookie")
			}
			b.cookies[sessionName] = sessionCookie // a stolen copy
			if res, ok := e.flow.Session(ctx, b.get("/")); ok || len(res.SetCookie) != 1 {
				t.Fatalf("Session after logout = %v, SetCookie %q", ok, res.SetCookie)
			}
			for _, r := range []*decision.Reply{start, resp, out} {
				assertClean(t, r, sessionCookie, res.AccessToken, refreshed.AccessToken, e.idp.ClientSecret())
			}
		})
	}
}

func assertAuthorizeURL(t *testing.T, e *env, loc string) {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, e.eps.Authorization+"?") {
		t.Fatalf("Start location %q", loc)
	}
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": e.idp.ClientID(), "scope": "openid email profile offline_access",
		"redirect_uri": "https://" + appHost + "/oauth2/callback", "code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) != 43 {
			t.Errorf("%s = %q, want 256 random bits", k, q.Get(k))
		}
	}
}

func assertLoginCookies(t *testing.T, cookies []string) {
	t.Helper()
	if len(cookies) != 2 {
		t.Fatalf("callback cookies = %q", cookies)
	}
	for _, attr := range []string{"Path=/", "Max-Age=43200", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(cookies[0], "; "+attr) {
			t.Errorf("session cookie %q lacks %s", cookies[0], attr)
		}
	}
	if !strings.HasPrefix(cookies[0], sessionName+"=") || !strings.HasPrefix(cookies[1], statePrefix) ||
		!strings.Contains(cookies[1], "=; ") || !strings.Contains(cookies[1], "Max-Age=0") {
		t.Errorf("cookies = %q, want the session set and the state cleared", cookies)
	}
}

func assertEndSession(t *testing.T, e *env, loc string) {
	t.Helper()
	u, _ := url.Parse(loc)
	q := u.Query()
	if !strings.HasPrefix(loc, e.eps.EndSession+"?") || q.Get("client_id") != e.idp.ClientID() ||
		q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") != "https://"+appHost+"/bye" {
		t.Fatalf("logout location %q", loc)
	}
	resp, err := noRedirects.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.idp.Logouts() != 1 || resp.Header.Get("Location") != "https://"+appHost+"/bye" {
		t.Fatalf("IdP logout: %d calls, location %q", e.idp.Logouts(), resp.Header.Get("Location"))
	}
}
