package decision

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/identity"
)

// fakeBrowser stands in for the login flow: the login package has its own
// tests against a real IdP; this one tests how the decision uses it.
type fakeBrowser struct{}

func (fakeBrowser) Endpoint(_ context.Context, req *Request) (*Reply, bool) {
	if req.Path == "/oauth2/callback" {
		return &Reply{Status: 302, Reason: "login_complete", ResponseHeaders: []identity.Header{{Name: "location", Value: "/runs"}, {Name: "set-cookie", Value: "idgate_session=s1"}}}, true
	}
	return nil, false
}

func (fakeBrowser) Session(_ context.Context, req *Request) (SessionInfo, bool) {
	if strings.Contains(req.Headers["cookie"], "idgate_session=s1") {
		return SessionInfo{Identity: identity.Identity{Issuer: "https://idp", Subject: "a", Email: "alice@example.com"}, AccessToken: "at"}, true
	}
	if strings.Contains(req.Headers["cookie"], "idgate_session=storedown") {
		return SessionInfo{Unavailable: &Reply{Status: 503, Reason: "session_store_failed"}}, false
	}
	if strings.Contains(req.Headers["cookie"], "idgate_session=") {
		return SessionInfo{SetCookie: []identity.Header{{Name: "set-cookie", Value: "idgate_session=; Max-Age=0"}}}, false
	}
	return SessionInfo{}, false
}

func (fakeBrowser) Start(context.Context, *Request) *Reply {
	return &Reply{Status: 302, Reason: "login_redirect", ResponseHeaders: []identity.Header{{Name: "location", Value: "https://idp/authorize"}}}
}

func (fakeBrowser) StripCookies(c string) string {
	var keep []string
	for _, p := range strings.Split(c, ";") {
		if !strings.HasPrefix(strings.TrimSpace(p), "idgate_session=") {
			keep = append(keep, strings.TrimSpace(p))
		}
	}
	return strings.Join(keep, "; ")
}

func TestBrowserLogin(t *testing.T) {
	e := mustEngine(t, testRoutes)
	e.cfg.Browser = fakeBrowser{}
	html := "text/html,application/xhtml+xml"
	tests := []struct {
		name       string
		method     string
		path       string
		headers    map[string]string
		wantStatus int
		wantReason string
		wantCookie string // upstream cookie header; "-" removed
	}{
		{"browser without session is redirected", "GET", "/runs", map[string]string{"accept": html}, 302, "login_redirect", ""},
		{"api caller gets 401", "GET", "/runs", map[string]string{"accept": "application/json"}, 401, "missing_token", ""},
		{"post is never redirected", "POST", "/runs", map[string]string{"accept": html}, 401, "missing_token", ""},
		{"accept in upper case is a navigation", "GET", "/runs", map[string]string{"accept": "TEXT/HTML"}, 302, "login_redirect", ""},
		{"head navigation is redirected", "HEAD", "/runs", map[string]string{"accept": html}, 302, "login_redirect", ""},
		{"callback answered by idgate", "GET", "/oauth2/callback", map[string]string{"accept": html}, 302, "login_complete", ""},
		{"session cookie authenticates", "GET", "/runs", map[string]string{"accept": html, "cookie": "theme=dark; idgate_session=s1"}, 200, "ok", "theme=dark"},
		{"only idgate's cookie: header removed", "GET", "/runs", map[string]string{"cookie": "idgate_session=s1"}, 200, "ok", "-"},
		{"dead session cleared and redirected", "GET", "/runs", map[string]string{"accept": html, "cookie": "idgate_session=gone"}, 302, "login_redirect", ""},
		{"store down: try again, no new login", "GET", "/runs", map[string]string{"accept": html, "cookie": "idgate_session=storedown"}, 503, "session_store_failed", ""},
		{"store down: api caller too", "GET", "/runs", map[string]string{"cookie": "idgate_session=storedown"}, 503, "session_store_failed", ""},
		{"public route strips the cookie too", "GET", "/healthz", map[string]string{"cookie": "idgate_session=s1; a=b"}, 200, "public", "a=b"},
		{"bearer wins over a session", "GET", "/runs", map[string]string{"authorization": "Bearer bob", "cookie": "idgate_session=s1"}, 200, "ok", "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: tc.method, Path: tc.path, Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.wantStatus || res.Reason != tc.wantReason {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Reason, tc.wantStatus, tc.wantReason)
			}
			if tc.name == "dead session cleared and redirected" && !slices.ContainsFunc(res.ResponseHeaders, func(h identity.Header) bool { return strings.Contains(h.Value, "Max-Age=0") }) {
				t.Errorf("dead session cookie not cleared: %v", res.ResponseHeaders)
			}
			if !res.Allowed || tc.wantCookie == "" {
				return
			}
			got := ""
			for _, h := range res.Set {
				if h.Name == "cookie" {
					got = h.Value
				}
			}
			if slices.Contains(res.Remove, "cookie") {
				got = "-"
			}
			if got != tc.wantCookie {
				t.Fatalf("upstream cookie = %q, want %q (set %v remove %v)", got, tc.wantCookie, res.Set, res.Remove)
			}
		})
	}
}

// TestBrowserReplyCarriedAsIs: a Browser's reply is the Result's Reply as
// the login made it (one change of shape on the way to the proxy, in the
// front end); a dead session's clearing cookie goes before the reply's
// headers.
func TestBrowserReplyCarriedAsIs(t *testing.T) {
	e := mustEngine(t, testRoutes)
	e.cfg.Browser = fakeBrowser{}
	html := "text/html"
	callback, _ := fakeBrowser{}.Endpoint(context.Background(), &Request{Path: "/oauth2/callback"})
	down, _ := fakeBrowser{}.Session(context.Background(), &Request{Headers: map[string]string{"cookie": "idgate_session=storedown"}})
	start := fakeBrowser{}.Start(context.Background(), nil)
	clearing := identity.Header{Name: "set-cookie", Value: "idgate_session=; Max-Age=0"}
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		want    Reply
	}{
		{"callback", "/oauth2/callback", map[string]string{"accept": html}, *callback},
		{"store down", "/runs", map[string]string{"cookie": "idgate_session=storedown"}, *down.Unavailable},
		{"login start", "/runs", map[string]string{"accept": html}, *start},
		{"dead session, then login start", "/runs", map[string]string{"accept": html, "cookie": "idgate_session=gone"},
			Reply{Status: start.Status, Reason: start.Reason, Message: start.Message,
				ResponseHeaders: append([]identity.Header{clearing}, start.ResponseHeaders...)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Path: tc.path, Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed || !reflect.DeepEqual(res.Reply, tc.want) {
				t.Fatalf("Result = %+v, want denied with reply %+v", res, tc.want)
			}
		})
	}
}

// TestIsBrowser: the one rule for when a request without credentials is
// sent to the login rather than answered 401 (login's tests use it too).
func TestIsBrowser(t *testing.T) {
	tests := []struct {
		name, method, accept string
		want                 bool
	}{
		{"navigation", "GET", "text/html,application/xhtml+xml;q=0.9", true},
		{"upper case", "GET", "TEXT/HTML", true},
		{"api call", "GET", "application/json", false},
		{"no accept", "GET", "", false},
		{"form post", "POST", "text/html", false},
		{"head", "HEAD", "text/html", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &Request{Method: tc.method, Headers: map[string]string{"accept": tc.accept}}
			if got := IsBrowser(req); got != tc.want {
				t.Fatalf("IsBrowser = %v, want %v", got, tc.want)
			}
		})
	}
}
