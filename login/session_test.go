package login

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/session"
)

// loggedIn returns an env and a browser holding a fresh session.
func loggedIn(t *testing.T, o envOptions) (*env, *browser) {
	t.Helper()
	e := MustEnv(t, o)
	b := newBrowser()
	if r := e.MustLogin(b, "/"); r.Status != http.StatusFound {
		t.Fatalf("login = %d %s", r.Status, r.Reason)
	}
	return e, b
}

func TestSessionRefusals(t *testing.T) {
	tests := []struct {
		name      string
		opts      envOptions
		run       func(t *testing.T, e *env, b *browser)
		wantClear bool
	}{
		{"tampered cookie", envOptions{}, func(t *testing.T, e *env, b *browser) {
			c := []byte(b.cookies[sessionName])
			c[5] ^= 1
			b.cookies[sessionName] = string(c)
		}, true},
		{"cookie of a deleted session", envOptions{}, func(t *testing.T, e *env, b *browser) {
			if err := e.store.Delete(t.Context(), b.cookies[sessionName]); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"expired session", envOptions{session: session.Config{TTL: 2 * time.Hour}}, func(t *testing.T, e *env, b *browser) {
			e.clk.Advance(2 * time.Hour)
		}, true},
		{"idle session", envOptions{session: session.Config{IdleTTL: 30 * time.Minute}}, func(t *testing.T, e *env, b *browser) {
			e.clk.Advance(30 * time.Minute)
		}, true},
		{"refresh refused", envOptions{}, func(t *testing.T, e *env, b *browser) {
			e.idp.SetFault("token", devidp.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_grant"}`})
			e.clk.Advance(time.Hour)
		}, true},
		{"refresh impossible after expiry", envOptions{}, func(t *testing.T, e *env, b *browser) {
			e.idp.SetFault("token", devidp.Fault{Status: http.StatusServiceUnavailable})
			e.clk.Advance(time.Hour)
		}, true},
		{"redis down", envOptions{redis: true}, func(t *testing.T, e *env, b *browser) {
			e.redis.Kill()
		}, false},
		{"redis restarted", envOptions{redis: true}, func(t *testing.T, e *env, b *browser) {
			e.redis.Restart()
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, b := loggedIn(t, tc.opts)
			cookie := b.cookies[sessionName]
			tc.run(t, e, b)
			req := b.get("/")
			res, ok := e.flow.Session(t.Context(), req)
			if ok || res.AccessToken != "" || res.Identity.Subject != "" {
				t.Fatalf("Session = %+v, %v; want none", res, ok)
			}
			if got := len(res.SetCookie) == 1 && strings.Contains(res.SetCookie[0].Value, "Max-Age=0"); got != tc.wantClear {
				t.Fatalf("SetCookie = %q, want clearing %v", res.SetCookie, tc.wantClear)
			}
			if up := e.flow.StripCookies(req.Headers["cookie"]); up != "" {
				t.Fatalf("upstream cookie = %q, want idgate's cookies removed", up)
			}
			if tc.wantClear && tc.name != "tampered cookie" {
				if _, err := e.store.Get(t.Context(), cookie); !errors.Is(err, session.ErrNoSession) {
					t.Fatalf("store still holds the session: %v", err)
				}
			}
		})
	}
}

func TestRefreshSoftFailure(t *testing.T) {
	e, b := loggedIn(t, envOptions{})
	first, _ := e.flow.Session(t.Context(), b.get("/"))
	e.idp.SetFault("token", devidp.Fault{Status: http.StatusServiceUnavailable})
	e.clk.Advance(time.Hour - 30*time.Second) // inside the refresh margin, not expired
	res, ok := e.flow.Session(t.Context(), b.get("/"))
	if !ok || res.AccessToken != first.AccessToken {
		t.Fatalf("Session with the IdP down before expiry = %v; want the current token", ok)
	}
	e.idp.SetFault("token", devidp.Fault{})
	res, ok = e.flow.Session(t.Context(), b.get("/"))
	if !ok || res.AccessToken == first.AccessToken {
		t.Fatalf("Session once the IdP is back = %v, refreshed %v", ok, res.AccessToken != first.AccessToken)
	}
}

// devidp rotates refresh tokens, so a second refresh with the same token
// would be refused and end the session: concurrent requests must share one.
func TestConcurrentRefresh(t *testing.T) {
	e, b := loggedIn(t, envOptions{redis: true})
	e.clk.Advance(time.Hour)
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			if res, ok := e.flow.Session(t.Context(), b.get("/")); ok {
				tokens[i] = res.AccessToken
			}
		})
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("request %d got %.10q, request 0 %.10q", i, tok, tokens[0])
		}
	}

	// Another replica (a second Flow on the same Redis) refreshed first.
	other, err := New(e.flow.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	a, ok1 := other.Session(t.Context(), b.get("/"))
	c, ok2 := e.flow.Session(t.Context(), b.get("/"))
	if !ok1 || !ok2 || a.AccessToken != c.AccessToken {
		t.Fatalf("replicas: %v %v, same token %v", ok1, ok2, a.AccessToken == c.AccessToken)
	}
}

func TestLoginUnavailable(t *testing.T) {
	t.Run("endpoints unknown", func(t *testing.T) {
		e := MustEnv(t, envOptions{})
		e.epsKnow = false
		r := e.flow.Start(t.Context(), newBrowser().get("/a"))
		if r.Status != http.StatusServiceUnavailable || header(r, "location") != "" || len(setCookies(r)) != 0 {
			t.Fatalf("Start = %+v", r)
		}
	})
	t.Run("redis down at start", func(t *testing.T) { // Start needs no store
		e := MustEnv(t, envOptions{redis: true})
		e.redis.Kill()
		if r := e.flow.Start(t.Context(), newBrowser().get("/a")); r.Status != http.StatusFound {
			t.Fatalf("Start = %d %s", r.Status, r.Reason)
		}
	})
	t.Run("redis down at callback", func(t *testing.T) {
		e := MustEnv(t, envOptions{redis: true})
		b, cb := startLogin(t, e, "/a")
		e.redis.Kill()
		r := callback(t, e, b.get(cb))
		if r.Status != http.StatusServiceUnavailable || header(r, "location") != "" {
			t.Fatalf("callback = %d %s", r.Status, r.Reason)
		}
	})
	t.Run("redis down with a session", func(t *testing.T) {
		// A logged-in browser is told to try again, not sent to the IdP
		// (whose callback could not store a session either).
		e, b := loggedIn(t, envOptions{redis: true})
		e.redis.Kill()
		res, ok := e.flow.Session(t.Context(), b.get("/runs"))
		if ok || res.Unavailable == nil || res.Unavailable.Status != http.StatusServiceUnavailable || len(res.SetCookie) != 0 {
			t.Fatalf("Session = %v, unavailable %+v, set-cookie %q", ok, res.Unavailable, res.SetCookie)
		}
	})
	t.Run("no session is not unavailable", func(t *testing.T) {
		e := MustEnv(t, envOptions{redis: true})
		e.redis.Kill()
		if res, ok := e.flow.Session(t.Context(), newBrowser().get("/runs")); ok || res.Unavailable != nil {
			t.Fatalf("Session without a cookie = %v, unavailable %+v", ok, res.Unavailable)
		}
	})
	t.Run("bad host", func(t *testing.T) {
		e := MustEnv(t, envOptions{})
		req := newBrowser().get("/a")
		req.Host = "evil.example/x?"
		if r := e.flow.Start(t.Context(), req); r.Status != http.StatusBadRequest {
			t.Fatalf("Start = %d %s", r.Status, r.Reason)
		}
	})
}

func TestLogoutWithoutEndSession(t *testing.T) {
	for _, tc := range []struct{ name, post, want string }{
		{"post logout url", "https://app.example/bye", "https://app.example/bye"},
		{"root", "", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, b := loggedIn(t, envOptions{edit: func(c *Config) { c.PostLogoutRedirectURL = tc.post }})
			e.eps.EndSession = ""
			r, _ := e.flow.Endpoint(t.Context(), b.get("/oauth2/logout"))
			if r.Status != http.StatusFound || header(r, "location") != tc.want || len(setCookies(r)) != 1 {
				t.Fatalf("logout = %+v", r)
			}
			if e.idp.Logouts() != 0 {
				t.Fatal("IdP logout called")
			}
		})
	}
}

func TestStrictSameSite(t *testing.T) {
	e := MustEnv(t, envOptions{edit: func(c *Config) { c.Cookie.SameSite = "strict" }})
	b := newBrowser()
	start := e.flow.Start(t.Context(), b.get("/x?a=1&b=2"))
	if c := setCookies(start); !strings.Contains(c[0], "SameSite=Lax") {
		t.Fatalf("state cookie %q must stay lax to come back from the IdP", c[0])
	}
	b.apply(t, start.ResponseHeaders)
	r := callback(t, e, b.get(MustAuthorize(t, start)))
	if r.Status != http.StatusOK || !strings.Contains(r.Message, `url=/x?a=1&amp;b=2"`) ||
		!strings.Contains(setCookies(r)[0], "SameSite=Strict") {
		t.Fatalf("strict callback = %d %q %q", r.Status, r.Message, setCookies(r))
	}
}

// Two tabs log in at once: each login has its own state cookie, and they
// finish in either order.
func TestTwoTabsLogInAtOnce(t *testing.T) {
	for _, order := range []string{"first finishes first", "second finishes first"} {
		t.Run(order, func(t *testing.T) {
			e := MustEnv(t, envOptions{})
			b := newBrowser()
			first := e.flow.Start(t.Context(), b.get("/one"))
			b.apply(t, first.ResponseHeaders)
			second := e.flow.Start(t.Context(), b.get("/two"))
			b.apply(t, second.ResponseHeaders)
			cbs := map[string]string{"/one": MustAuthorize(t, first), "/two": MustAuthorize(t, second)}
			paths := []string{"/one", "/two"}
			if order == "second finishes first" {
				paths = []string{"/two", "/one"}
			}
			for _, p := range paths {
				r := callback(t, e, b.get(cbs[p]))
				if r.Status != http.StatusFound || header(r, "location") != p {
					t.Fatalf("tab %s = %d %s", p, r.Status, r.Reason)
				}
				b.apply(t, r.ResponseHeaders)
			}
			if n := len(cookiesWithPrefix(b.header(), statePrefix, -1)); n != 0 {
				t.Fatalf("%d state cookies left after both logins", n)
			}
		})
	}
}

// Pending logins are bounded: Start clears the oldest state cookies (and
// any that no longer open), so the cookie header stays small.
func TestPendingLoginsBounded(t *testing.T) {
	e := MustEnv(t, envOptions{})
	b := newBrowser()
	b.cookies[statePrefix+"forgedforgedforg"], b.order = "bm90IHNlYWxlZA", []string{statePrefix + "forgedforgedforg"}
	var cbs []string
	for i := range 2 * maxPendingLogins {
		e.clk.Advance(time.Second)
		start := e.flow.Start(t.Context(), b.get(fmt.Sprintf("/tab%d", i)))
		b.apply(t, start.ResponseHeaders)
		cbs = append(cbs, MustAuthorize(t, start))
		if n := len(cookiesWithPrefix(b.header(), statePrefix, -1)); n > maxPendingLogins {
			t.Fatalf("after %d starts: %d state cookies, want at most %d", i+1, n, maxPendingLogins)
		}
	}
	if _, ok := b.cookies[statePrefix+"forgedforgedforg"]; ok {
		t.Fatal("a state cookie that does not open was kept")
	}
	if len(b.header()) > maxPendingLogins*(session.MaxSealedState+64) {
		t.Fatalf("cookie header %d bytes", len(b.header()))
	}
	if r := callback(t, e, b.get(cbs[0])); r.Reason != ReasonStateCookie {
		t.Fatalf("oldest login = %d %s, want it pruned", r.Status, r.Reason)
	}
	if r := callback(t, e, b.get(cbs[len(cbs)-1])); r.Status != http.StatusFound {
		t.Fatalf("newest login = %d %s", r.Status, r.Reason)
	}
}
