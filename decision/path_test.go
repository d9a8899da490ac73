package decision

import (
	"context"
	"net/url"
	"path"
	"strings"
	"testing"
)

// matchRoutes is a route table with every kind of route the readings must
// keep apart.
var matchRoutes = []Route{
	{PathPrefix: "/public", Public: true},
	{PathPrefix: "/admin", AllowGroups: []string{"admins"}},
	{PathPrefix: "/files", AllowEncodedSlashes: true},
	{PathPrefix: "/", Hosts: []string{"Admin.Example.com."}, AllowGroups: []string{"admins"}},
}

// TestRouteReadings: the red team's paths and hosts. A request is decided
// by the route every common upstream would serve it from, or refused.
func TestRouteReadings(t *testing.T) {
	e := mustEngine(t, matchRoutes)
	tests := []struct {
		name, path, host, token string
		wantStatus              int
		wantRoute               string
	}{
		{"encoded slash dot-dot to public", "/admin/x%2F..%2F..%2Fpublic", "h", "", 400, ""},
		{"encoded slash dot-dot to default", "/admin/x%2F..%2F..%2Fother", "h", "bob", 400, ""},
		{"lower-case escapes", "/admin/x%2f..%2f..%2fpublic", "h", "", 400, ""},
		{"encoded backslash", "/admin/x%5C..%5C..%5Cpublic", "h", "", 400, ""},
		{"encoded dot segment", "/public/%2e%2e/admin", "h", "", 400, ""},
		{"encoded single dot", "/public/%2E/x", "h", "", 400, ""},
		{"raw dot segment", "/public/./x", "h", "", 400, ""},
		{"dot-dot with params", "/public/..;/admin", "h", "", 400, ""},
		{"params hide a restrictive prefix", "/admin;x=1", "h", "bob", 400, ""},
		{"params hide a public prefix", "/public;x=1", "h", "", 400, ""},
		{"params that change nothing", "/api;v=1/runs", "h", "bob", 200, "default"},
		{"leading slash run", "//admin", "h", "bob", 400, ""},
		{"inner slash run", "/api//runs", "h", "bob", 200, "default"},
		{"slash run inside public", "/public//x", "h", "", 200, "/public"},
		{"encoded NUL", "/admin%00", "h", "bob", 400, ""},
		{"raw NUL", "/admin\x00", "h", "bob", 400, ""},
		{"raw backslash", "/public\\..\\admin", "h", "", 400, ""},
		{"absolute-form", "http://h/admin", "h", "bob", 400, ""},
		{"asterisk-form", "*", "h", "bob", 400, ""},
		{"empty", "", "h", "bob", 400, ""},
		{"fragment", "/admin#x", "h", "bob", 400, ""},
		{"invalid escape", "/a%zz", "h", "bob", 400, ""},
		{"truncated escape", "/a%2", "h", "bob", 400, ""},
		{"double-encoded slash dot-dot", "/admin/x%252F..%252F..%252Fpublic", "h", "", 400, ""},
		{"double-encoded dot-dot", "/public/%252e%252e/admin", "h", "", 400, ""},
		{"double-encoded NUL", "/admin%2500", "h", "bob", 400, ""},
		{"double-encoded slash on the default route", "/api/a%252Fb", "h", "bob", 400, ""},
		{"encoded percent that changes nothing", "/api/100%25", "h", "bob", 200, "default"},
		{"upper-case restrictive", "/ADMIN/x", "h", "bob", 403, "/admin"},
		{"mixed-case restrictive", "/Admin/x", "h", "bob", 403, "/admin"},
		{"upper-case public is not public", "/PUBLIC", "h", "", 401, "default"},
		{"encoded letter changes the route", "/%61dmin", "h", "bob", 400, ""},
		{"encoded letter hides a public prefix", "/%70ublic", "h", "", 400, ""},
		{"encoded byte that changes nothing", "/public/caf%C3%A9", "h", "", 200, "/public"},
		{"query is not the path", "/api?x=/../admin", "h", "bob", 200, "default"},
		{"encoded slash on an opted-in route", "/files/a%2Fb", "h", "bob", 200, "/files"},
		{"opted-in route still refuses dot segments", "/files/a%2F..%2F..%2Fadmin", "h", "bob", 400, ""},
		{"encoded slash on the default route", "/api/a%2Fb", "h", "bob", 400, ""},
		{"encoded slash on a public route", "/public/a%2Fb", "h", "", 400, ""},
		{"host trailing dot", "/api", "admin.example.com.", "bob", 403, "/"},
		{"host upper case", "/api", "ADMIN.example.com", "bob", 403, "/"},
		{"host with port", "/api", "admin.example.com:443", "bob", 403, "/"},
		{"host admin allowed", "/api", "admin.example.com", "alice", 200, "/"},
		{"bracketed name", "/api", "[admin.example.com]", "bob", 400, ""},
		{"two ports", "/api", "admin.example.com:443:80", "bob", 400, ""},
		{"two trailing dots", "/api", "admin.example.com..", "bob", 400, ""},
		{"port out of range", "/api", "admin.example.com:99999", "bob", 400, ""},
		{"empty port", "/api", "admin.example.com:", "bob", 400, ""},
		{"other host", "/api", "runs.example.com", "bob", 200, "default"},
		{"IPv6 literal", "/api", "[::1]:8080", "bob", 200, "default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantDecision(t, e, &Request{Method: "GET", Host: tc.host, Path: tc.path}, tc.token, tc.wantStatus, tc.wantRoute)
		})
	}
}

// FuzzRouteReadings: whatever the path, a request idgate accepts is decided
// by the route a server that decodes everything (%2F and %5C into "/"),
// drops ";params" and cleans the path would serve it from.
func FuzzRouteReadings(f *testing.F) {
	for _, s := range []string{"/admin/x%2F..%2F..%2Fpublic", "/public;x", "//admin", "/ADMIN", "/files/a%2Fb",
		"/public/..;/admin", "/%70ublic", "/api//runs", "/public/caf%C3%A9", "/a%5c..%5cadmin"} {
		f.Add(s)
	}
	e := mustEngine(f, matchRoutes)
	f.Fuzz(func(t *testing.T, target string) {
		route, ok := e.route("GET", "h", target)
		if !ok {
			return
		}
		p, _, _ := strings.Cut(target, "?")
		dec, err := url.PathUnescape(strings.ReplaceAll(strings.ReplaceAll(p, "%5C", "/"), "%5c", "/"))
		if err != nil {
			t.Fatalf("accepted an undecodable path %q", target)
		}
		served := path.Clean(stripParams(dec))
		if got := e.routes.first("GET", "h", pathForm{path: served}); got != route {
			t.Fatalf("%q decided by %s, a decoding server serves %q from %s", target, route.name(), served, got.name())
		}
	})
}

// TestRefusedPathInShadowMode: shadow mode never denies, also a request
// whose path or host no route can be chosen for; it reports what enforce
// mode would do.
func TestRefusedPathInShadowMode(t *testing.T) {
	e := mustEngine(t, matchRoutes)
	e.cfg.Shadow = true
	for _, tc := range []struct{ name, host, path, reason string }{
		{"path", "h", "/admin/x%2F..%2F..%2Fpublic", "bad_path"},
		{"host", "a:1:2", "/api", "bad_host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: tc.host, Path: tc.path, Headers: map[string]string{}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Allowed || !res.Shadow || res.WouldAllow || res.Reason != tc.reason || len(res.Set) != 0 {
				t.Fatalf("got allowed=%v shadow=%v would=%v reason=%s", res.Allowed, res.Shadow, res.WouldAllow, res.Reason)
			}
		})
	}
}
