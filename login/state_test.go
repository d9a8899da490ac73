package login

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/session"
)

// Anonymous navigations start logins; none may make idgate store anything,
// so none can evict a pending login or a session (the red team filled a
// 4 MB Redis under allkeys-lru, and the in-process state store, this way).
func TestAnonymousStartsStoreNothing(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		e, victim := loggedIn(t, envOptions{redis: true})
		rc := redis.NewClient(&redis.Options{Addr: e.redis.Addr()})
		t.Cleanup(func() { _ = rc.Close() })
		before := rc.DBSize(t.Context()).Val()
		for range 200 {
			if r := e.flow.Start(t.Context(), newBrowser().get("/x")); r.Status != http.StatusFound {
				t.Fatalf("Start = %d %s", r.Status, r.Reason)
			}
		}
		if after := rc.DBSize(t.Context()).Val(); after != before || before != 1 {
			t.Fatalf("Redis keys: %d before 200 anonymous starts, %d after; want the one session", before, after)
		}
		if _, ok := e.flow.Session(t.Context(), victim.get("/")); !ok {
			t.Fatal("the logged-in session is gone")
		}
	})
	t.Run("in-process", func(t *testing.T) {
		e := MustEnv(t, envOptions{session: session.Config{MaxLocal: 2}})
		pending, cb := startLogin(t, e, "/pending")
		for range 50 {
			e.flow.Start(t.Context(), newBrowser().get("/x"))
		}
		if r := callback(t, e, pending.get(cb)); r.Status != http.StatusFound || header(r, "location") != "/pending" {
			t.Fatalf("pending login after 50 anonymous starts = %d %s", r.Status, r.Reason)
		}
	})
}

// A callback cut short (Envoy's deadline while the token endpoint is slow)
// leaves the login pending: the retry succeeds.
func TestCallbackRetryAfterDeadline(t *testing.T) {
	e := MustEnv(t, envOptions{})
	b, cb := startLogin(t, e, "/a")
	e.idp.SetFault("token", devidp.Fault{Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	r, _ := e.flow.Endpoint(ctx, b.get(cb))
	if r.Status != http.StatusBadGateway || r.Reason != ReasonTokenExchange {
		t.Fatalf("callback past its deadline = %d %s", r.Status, r.Reason)
	}
	if c := setCookies(r); len(c) != 0 {
		t.Fatalf("a failed callback set cookies %q", c)
	}
	b.apply(t, r.ResponseHeaders)
	e.idp.SetFault("token", devidp.Fault{})
	if r := callback(t, e, b.get(cb)); r.Status != http.StatusFound || header(r, "location") != "/a" {
		t.Fatalf("retried callback = %d %s", r.Status, r.Reason)
	}
}

func TestCookieNames(t *testing.T) {
	tests := []struct {
		name                  string
		cookie                CookieConfig
		session, statePrefix  string
		sessionAttr, stateNot []string
	}{
		{"secure, host only", CookieConfig{Secure: true}, "__Host-idgate_session=", "__Host-idgate_session_state_",
			[]string{"Path=/", "Secure"}, []string{"Domain="}},
		{"secure, shared domain", CookieConfig{Secure: true, Domain: "example.com"}, "idgate_session=", "__Host-idgate_session_state_",
			[]string{"Domain=example.com", "Secure"}, []string{"Domain="}},
		{"configured with the prefix", CookieConfig{Secure: true, Name: "__Host-kf"}, "__Host-kf=", "__Host-kf_state_",
			[]string{"Path=/", "Secure"}, []string{"Domain="}},
		{"plain http (development)", CookieConfig{}, "idgate_session=", "idgate_session_state_",
			[]string{"Path=/"}, []string{"Secure", "Domain="}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{edit: func(c *Config) {
				// The table's cookie over the defaults (a name, lax).
				c.Cookie.Secure, c.Cookie.Domain = tc.cookie.Secure, tc.cookie.Domain
				if tc.cookie.Name != "" {
					c.Cookie.Name = tc.cookie.Name
				}
			}})
			b := newBrowser()
			start := e.flow.Start(t.Context(), b.get("/a"))
			st := setCookies(start)
			if len(st) != 1 || !strings.HasPrefix(st[0], tc.statePrefix) {
				t.Fatalf("state cookie %q, want prefix %q", st, tc.statePrefix)
			}
			for _, a := range tc.stateNot {
				if strings.Contains(st[0], a) {
					t.Errorf("state cookie %q has %s", st[0], a)
				}
			}
			b.apply(t, start.ResponseHeaders)
			r := callback(t, e, b.get(MustAuthorize(t, start)))
			sc := setCookies(r)
			if r.Status != http.StatusFound || !strings.HasPrefix(sc[0], tc.session) {
				t.Fatalf("callback = %d %s, cookies %q; want %q", r.Status, r.Reason, sc, tc.session)
			}
			for _, a := range tc.sessionAttr {
				if !strings.Contains(sc[0], a) {
					t.Errorf("session cookie %q lacks %s", sc[0], a)
				}
			}
			b.apply(t, r.ResponseHeaders)
			req := b.get("/")
			if _, ok := e.flow.Session(t.Context(), req); !ok || e.flow.StripCookies(req.Headers["cookie"]) != "" {
				t.Fatalf("Session = %v, upstream cookie %q", ok, e.flow.StripCookies(req.Headers["cookie"]))
			}
		})
	}
}

// Login CSRF by cookie tossing: the attacker starts a login, and plants its
// state cookie into the victim's browser from a sibling subdomain, which can
// set any cookie but a __Host- one; the victim then follows the attacker's
// callback URL. It must not log the victim in as the attacker.
func TestPlantedStateCookie(t *testing.T) {
	e := MustEnv(t, envOptions{})
	attacker, cb := startLogin(t, e, "/a")
	u, _ := url.Parse(cb)
	tag := u.Query().Get("state")[:stateTagLen]
	for _, name := range []string{"idgate_session_state_" + tag, "idgate_session_state", "__Secure-idgate_session_state_" + tag} {
		t.Run(name, func(t *testing.T) {
			victim := newBrowser()
			victim.cookies[name], victim.order = attacker.lastState, []string{name}
			r := callback(t, e, victim.get(cb))
			if r.Status == http.StatusFound {
				t.Fatalf("planted %s logged the victim in", name)
			}
			for _, c := range setCookies(r) {
				if strings.Contains(c, "idgate_session=") && !strings.Contains(c, "Max-Age=0") {
					t.Fatalf("planted %s set a session cookie %q", name, c)
				}
			}
		})
	}
}

// A session is accepted only under the name it was issued under: one an
// older idgate made (no CookieName) ends and the user logs in again, and one
// issued under the __Host- name is never accepted under the unprefixed one
// (a sibling subdomain could plant it). Both are cleared, and logout clears
// both names.
func TestLegacySessionCookie(t *testing.T) {
	e, b := loggedIn(t, envOptions{})
	current, _ := e.store.Get(t.Context(), b.cookies[sessionName])
	old := *current
	old.CookieName = "" // as an older idgate stored it
	oldCookie, err := e.store.Create(t.Context(), &old)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"session of an older idgate: log in again", oldCookie, false},
		{"session issued under __Host-, planted unprefixed", b.cookies[sessionName], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newBrowser().get("/")
			req.Headers["cookie"] = "idgate_session=" + tc.value + "; a=b"
			res, ok := e.flow.Session(t.Context(), req)
			if up := e.flow.StripCookies(req.Headers["cookie"]); ok != tc.want || up != "a=b" {
				t.Fatalf("Session = %v (want %v), upstream cookie %q", ok, tc.want, up)
			}
			if !ok && (len(res.SetCookie) != 1 || !strings.HasPrefix(res.SetCookie[0].Value, "idgate_session=;")) {
				t.Fatalf("refused legacy cookie not cleared: %q", res.SetCookie)
			}
		})
	}
	out, _ := e.flow.Endpoint(t.Context(), &decision.Request{Method: "GET", Host: appHost, Path: "/oauth2/logout",
		Headers: map[string]string{"cookie": "idgate_session=" + oldCookie}})
	if c := setCookies(out); len(c) != 2 || !strings.HasPrefix(c[1], "idgate_session=;") {
		t.Fatalf("logout cookies %q, want both names cleared", c)
	}
}

func TestFlowStripCookies(t *testing.T) {
	e := MustEnv(t, envOptions{})
	for in, want := range map[string]string{
		"__Host-idgate_session=s; a=1":                          "a=1",
		"idgate_session=s; idgate_session_state=b; a=1":         "a=1",
		"__Host-idgate_session_state_abcdefghijklmnop=x; b=2":   "b=2",
		"idgate_session_state_abcdefghijklmnop=x":               "",
		"idgate_sessionx=1; x__Host-idgate_session=2; Idgate=3": "idgate_sessionx=1; x__Host-idgate_session=2; Idgate=3",
	} {
		if got := e.flow.StripCookies(in); got != want {
			t.Errorf("StripCookies(%q) = %q, want %q", in, got, want)
		}
	}
}

// A long original URL keeps the state cookie small: its query is dropped
// past maxReturnInState, then its path.
func TestLongReturnPath(t *testing.T) {
	e := MustEnv(t, envOptions{})
	for _, tc := range []struct{ path, want string }{
		{"/notebooks?q=" + strings.Repeat("x", 1500), "/notebooks"},
		{"/" + strings.Repeat("p", 600), "/"},
		{"/runs?x=" + strings.Repeat("y", 400), "/runs?x=" + strings.Repeat("y", 400)},
	} {
		t.Run(tc.want[:min(len(tc.want), 12)], func(t *testing.T) {
			b := newBrowser()
			start := e.flow.Start(t.Context(), b.get(tc.path))
			if c := setCookies(start); len(c) != 1 || len(c[0]) > session.MaxSealedState+128 {
				t.Fatalf("state cookie of %d bytes", len(c[0]))
			}
			b.apply(t, start.ResponseHeaders)
			if r := callback(t, e, b.get(MustAuthorize(t, start))); header(r, "location") != tc.want {
				t.Fatalf("returned to %.40q, want %.40q", header(r, "location"), tc.want)
			}
		})
	}
}

// Several cookie headers joined with "," (a proxy folding them) still lose
// idgate's cookies: none travels inside another cookie's value.
func TestStripCookiesCommaJoined(t *testing.T) {
	e := MustEnv(t, envOptions{})
	for in, want := range map[string]string{
		"a=1,__Host-idgate_session=s":                        "a=1",
		"a=1; b=2,idgate_session=s, c=3":                     "a=1; b=2; c=3",
		"a=1,__Host-idgate_session_state_abcdefghijklmnop=x": "a=1",
	} {
		if got := e.flow.StripCookies(in); got != want {
			t.Errorf("StripCookies(%q) = %q, want %q", in, got, want)
		}
	}
}
