package login

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/devtools/devidp"
)

// startLogin runs Start and the IdP, returning the browser (holding the
// state cookie) and the callback path.
func startLogin(t *testing.T, e *env, path string) (*browser, string) {
	t.Helper()
	b := newBrowser()
	start := e.flow.Start(t.Context(), b.get(path))
	b.apply(t, start.ResponseHeaders)
	return b, MustAuthorize(t, start)
}

func callback(t *testing.T, e *env, req *decision.Request) *decision.Reply {
	t.Helper()
	resp, ok := e.flow.Endpoint(t.Context(), req)
	if !ok {
		t.Fatal("callback not handled")
	}
	return resp
}

func TestCallbackRefusals(t *testing.T) {
	tests := []struct {
		name   string
		run    func(t *testing.T, e *env) *decision.Reply
		status int
		reason string
	}{
		{"replayed callback", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			r := callback(t, e, b.get(cb))
			if r.Status != http.StatusFound {
				t.Fatalf("first callback = %d %s", r.Status, r.Reason)
			}
			b.apply(t, r.ResponseHeaders) // success cleared the state cookie
			return callback(t, e, b.get(cb))
		}, http.StatusForbidden, ReasonStateCookie},
		{"replayed with a copy of the state cookie", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			stolen := b.header()
			if r := callback(t, e, b.get(cb)); r.Status != http.StatusFound {
				t.Fatalf("first callback = %d %s", r.Status, r.Reason)
			}
			req := newBrowser().get(cb)
			req.Headers["cookie"] = stolen
			return callback(t, e, req) // the code is single use at the IdP
		}, http.StatusBadGateway, ReasonTokenExchange},
		{"missing state cookie", func(t *testing.T, e *env) *decision.Reply {
			_, cb := startLogin(t, e, "/a")
			return callback(t, e, newBrowser().get(cb))
		}, http.StatusForbidden, ReasonStateCookie},
		{"another login's state cookie", func(t *testing.T, e *env) *decision.Reply {
			_, cb := startLogin(t, e, "/a")
			other, _ := startLogin(t, e, "/a") // the attacker's own browser
			return callback(t, e, other.get(cb))
		}, http.StatusForbidden, ReasonStateCookie},
		{"another login's state under this state's name", func(t *testing.T, e *env) *decision.Reply {
			_, cb := startLogin(t, e, "/a")
			other, _ := startLogin(t, e, "/a")
			u, _ := url.Parse(cb)
			req := newBrowser().get(cb)
			req.Headers["cookie"] = statePrefix + u.Query().Get("state")[:stateTagLen] + "=" + other.lastState
			return callback(t, e, req)
		}, http.StatusForbidden, ReasonStateInvalid},
		{"expired state", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			e.clk.Advance(10 * time.Minute)
			return callback(t, e, b.get(cb))
		}, http.StatusForbidden, ReasonStateInvalid},
		{"no state", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			u, _ := url.Parse(cb)
			return callback(t, e, b.get("/oauth2/callback?code="+u.Query().Get("code")))
		}, http.StatusForbidden, ReasonStateMissing},
		{"forged state", func(t *testing.T, e *env) *decision.Reply {
			b, _ := startLogin(t, e, "/a")
			return callback(t, e, b.get("/oauth2/callback?code=x&state="+randomString()))
		}, http.StatusForbidden, ReasonStateCookie},
		{"malformed state", func(t *testing.T, e *env) *decision.Reply {
			b, _ := startLogin(t, e, "/a")
			return callback(t, e, b.get("/oauth2/callback?code=x&state=abc"))
		}, http.StatusForbidden, ReasonStateInvalid},
		{"no code", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			u, _ := url.Parse(cb)
			return callback(t, e, b.get("/oauth2/callback?state="+u.Query().Get("state")))
		}, http.StatusForbidden, ReasonCodeMissing},
		{"code redeemed twice", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			u, _ := url.Parse(cb)
			b2, cb2 := startLogin(t, e, "/a")
			u2, _ := url.Parse(cb2)
			callback(t, e, b.get(cb))
			return callback(t, e, b2.get("/oauth2/callback?code="+u.Query().Get("code")+"&state="+u2.Query().Get("state")))
		}, http.StatusBadGateway, ReasonTokenExchange},
		{"idp error", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			u, _ := url.Parse(cb)
			r := callback(t, e, b.get("/oauth2/callback?error=access_denied&error_description=%3Cscript%3Ecall+us&state="+u.Query().Get("state")))
			if !strings.Contains(r.Message, "access_denied") || strings.Contains(r.Message, "<script") || strings.Contains(r.Message, "call us") {
				t.Fatalf("error page %q", r.Message)
			}
			return r
		}, http.StatusForbidden, ReasonIdPError},
		{"idp error with markup", func(t *testing.T, e *env) *decision.Reply {
			r := callback(t, e, newBrowser().get("/oauth2/callback?error=%3Cimg+src%3Dx%3E"))
			if strings.Contains(r.Message, "<img") {
				t.Fatalf("error page reflects markup: %q", r.Message)
			}
			return r
		}, http.StatusForbidden, ReasonIdPError},
		{"token endpoint down", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			e.idp.SetFault("token", devidp.Fault{Status: http.StatusServiceUnavailable})
			return callback(t, e, b.get(cb))
		}, http.StatusBadGateway, ReasonTokenExchange},
		{"nonce mismatch", func(t *testing.T, e *env) *decision.Reply {
			e.flow.cfg.IDTokens = wrongNonce{e.flow.cfg.IDTokens}
			b, cb := startLogin(t, e, "/a")
			return callback(t, e, b.get(cb))
		}, http.StatusForbidden, ReasonIDTokenInvalid},
		{"redirect_uri on another host", func(t *testing.T, e *env) *decision.Reply {
			b, cb := startLogin(t, e, "/a")
			req := b.get(cb)
			req.Host = "other.example"
			return callback(t, e, req)
		}, http.StatusBadGateway, ReasonTokenExchange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{})
			r := tc.run(t, e)
			if r.Status != tc.status || r.Reason != tc.reason {
				t.Fatalf("response = %d %s, want %d %s\n%s", r.Status, r.Reason, tc.status, tc.reason, r.Message)
			}
			if header(r, "location") != "" || header(r, "content-type") != "text/html; charset=utf-8" {
				t.Fatalf("a refusal must be a page, not a redirect: %+v", r.ResponseHeaders)
			}
			for _, c := range setCookies(r) {
				if strings.HasPrefix(c, sessionName+"=") {
					t.Fatalf("refusal set a session cookie %q", c)
				}
			}
			assertClean(t, r, e.idp.ClientSecret())
		})
	}
}

// wrongNonce checks ID tokens against a nonce the login did not send.
type wrongNonce struct{ IDTokenVerifier }

func (w wrongNonce) VerifyIDToken(ctx context.Context, raw, clientID, _ string) (identity.Identity, error) {
	return w.IDTokenVerifier.VerifyIDToken(ctx, raw, clientID, randomString())
}

func TestOpenRedirect(t *testing.T) {
	e := MustEnv(t, envOptions{})
	for _, target := range []string{
		"//evil.example", "https://evil.example", "/%2F%2Fevil.example", `/\evil.example`, "/%5Cevil",
		"/%252F%252Fevil.example", "/%09/evil.example", "/\t/evil.example", "http:evil.example",
		"/%2f%5cevil", "evil.example", "/ok/../\\evil", "/x\r\nset-cookie: a=b",
	} {
		t.Run(target, func(t *testing.T) {
			b, cb := startLogin(t, e, target)
			r := callback(t, e, b.get(cb))
			if r.Status != http.StatusFound || header(r, "location") != "/" {
				t.Fatalf("login from %q returned to %q", target, header(r, "location"))
			}
		})
	}
}

func TestSafeReturnPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                        "/",
		"/notebooks/x?y=1":         "/notebooks/x?y=1",
		"/a%20b?q=%2F%2Fx":         "/a%20b?q=%2F%2Fx",
		"/a?next=//evil.example":   "/a?next=//evil.example",
		"/frag#x":                  "/frag",
		"":                         "/",
		"//evil.example":           "/",
		"///evil.example":          "/",
		"/%2F%2Fevil.example":      "/",
		"/%5Cevil":                 "/",
		"/%zz":                     "/",
		"/caf\xc3\xa9":             "/",
		strings.Repeat("/a", 2000): "/",
	} {
		if got := safeReturnPath(in); got != want {
			t.Errorf("safeReturnPath(%q) = %q, want %q", in, got, want)
		}
	}
}
