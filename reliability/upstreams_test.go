package reliability

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
	"github.com/idgate/idgate/internal/testkit/rawhttp"
)

// The red team's upstreams, reduced to how each reads a request. Each
// serves one of three handlers (public, default: any signed-in user,
// admin: group admins) and reports the identity it would act on.

// handler levels: what a caller must be for the upstream to serve it.
const (
	levelPublic  = 0 // anyone
	levelUser    = 1 // a verified user
	levelAdmin   = 2 // a verified user in admins
	adminHost    = "admin.example.com"
	forgedUser   = "root@example.com"
	forgedGroups = "admins"
)

// served is what an upstream did with one request.
type served struct {
	level  int
	users  []string // every value the upstream could read as the user id
	groups []string // every value it could read as the groups
	tokens []string // every bearer credential it could decode (Flyte does, unverified)
}

// readingUpstream routes by route(r) and reads identity headers by names(r).
type readingUpstream struct {
	route func(r *http.Request) int
	names func(h http.Header, want string) []string
	mu    sync.Mutex
	last  *served
}

func (u *readingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := &served{level: u.route(r), users: u.names(r.Header, "kubeflow-userid"), groups: u.names(r.Header, "kubeflow-groups"),
		tokens: append(u.names(r.Header, "authorization"), u.names(r.Header, "flyte-authorization")...)}
	u.mu.Lock()
	u.last = s
	u.mu.Unlock()
	_, _ = io.WriteString(w, "served")
}

func (u *readingUpstream) take() *served {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.last
	u.last = nil
	return s
}

// byPrefix maps a routed path (and the host) to a handler level: /admin
// and every path of admin.example.com need admins, /public is anyone's.
func byPrefix(p, host string, fold bool) int {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = strings.TrimSuffix(h[:i], ".")
	}
	seg := func(prefix string) bool {
		q := p
		if fold {
			q = strings.ToLower(q)
		}
		return q == prefix || strings.HasPrefix(q, prefix+"/")
	}
	switch {
	case h == adminHost || seg("/admin"):
		return levelAdmin
	case seg("/public"):
		return levelPublic
	}
	return levelUser
}

// wsgiNames: a WSGI/CGI server's environ, where "-" and "_" both become
// "_" and names are upper-cased, so kubeflow_groups is HTTP_KUBEFLOW_GROUPS.
// Whichever copy wins (first or last), every value under the key is one
// the application may act on.
func wsgiNames(h http.Header, want string) []string {
	key := func(n string) string { return strings.ToUpper(strings.ReplaceAll(n, "-", "_")) }
	var vs []string
	for n, v := range h {
		if key(n) == key(want) {
			vs = append(vs, v...)
		}
	}
	return vs
}

// exactNames: Go and Node read a header by its exact name, any case.
func exactNames(h http.Header, want string) []string { return h.Values(want) }

// upstreams are the three readings the red team met.
func upstreams() map[string]*readingUpstream {
	return map[string]*readingUpstream{
		// WSGI (Flask, Django): routes on the decoded path, reads headers
		// through environ.
		"wsgi": {route: func(r *http.Request) int { return byPrefix(r.URL.Path, r.Host, false) }, names: wsgiNames},
		// Express (the KFP UI, the Kubeflow dashboard): routes on the raw
		// path, case-insensitively.
		"express": {route: func(r *http.Request) int { return byPrefix(r.URL.EscapedPath(), r.Host, true) }, names: exactNames},
		// A server that decodes %2F and %5C (and "\") into separators and
		// resolves dot segments before it routes.
		"decoding": {route: func(r *http.Request) int {
			p := r.URL.EscapedPath()
			for _, s := range []string{"%5C", "%5c", "\\"} {
				p = strings.ReplaceAll(p, s, "/")
			}
			if d, err := url.PathUnescape(p); err == nil {
				p = d
			}
			return byPrefix(path.Clean(p), r.Host, false)
		}, names: exactNames},
	}
}

// TestUpstreamsNeverServeStrongerThanJudged runs the red team's attacks
// through the real idgate process and an Envoy-like front (envoysim: the
// Check, then idgate's header mutations) into each upstream. Whatever the
// upstream's reading, it never serves a handler the caller is not entitled
// to, and never reads a forged identity.
func TestUpstreamsNeverServeStrongerThanJudged(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	p := mustRun(t, baseConfig(idp, "    userinfo: false", `routes:
  - {path_prefix: /, hosts: [`+adminHost+`], allow_groups: [admins]}
  - {path_prefix: /public, public: true}
  - {path_prefix: /admin, allow_groups: [admins]}
`))
	p.mustReady(10 * time.Second)
	bob := "Bearer " + mustMint(t, idp, map[string]any{"sub": "bob", "email": "bob@example.com"}, devidp.MintOptions{})
	alice := "Bearer " + mustMint(t, idp, map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []string{"admins"}}, devidp.MintOptions{})

	type caller struct {
		name  string
		auth  string
		level int
		user  string
	}
	anon := caller{"anonymous", "", levelPublic, ""}
	user := caller{"bob", bob, levelUser, "bob@example.com"}
	forged := [][2]string{{"kubeflow_userid", forgedUser}, {"kubeflow_groups", forgedGroups}, {"Kubeflow_Groups", forgedGroups},
		{"x_flyte_identity", "forged"}, {"x_amzn_oidc_data", "forged"}, {"KUBEFLOW-USERID", forgedUser}}
	attacks := []struct {
		name, host, target string
		who                caller
		headers            [][2]string
	}{
		{"encoded slash dot-dot to public", "runs", "/admin/x%2F..%2F..%2Fpublic", anon, nil},
		{"encoded slash dot-dot to default", "runs", "/admin/x%2F..%2F..%2Fother", user, nil},
		{"encoded backslash dot-dot", "runs", "/admin/x%5C..%5C..%5Cpublic", anon, nil},
		{"lower-case escapes", "runs", "/admin/x%2f..%2f..%2fpublic", anon, nil},
		{"encoded dot-dot", "runs", "/public/%2e%2e/admin", anon, nil},
		{"encoded slash after public", "runs", "/public%2F..%2Fadmin", anon, nil},
		{"encoded slash into admin", "runs", "/admin%2Fx", user, nil},
		{"upper case", "runs", "/ADMIN/x", user, nil},
		{"mixed case", "runs", "/Admin/x", user, nil},
		{"mixed case, anonymous", "runs", "/aDmIn", anon, nil},
		{"params dot-dot", "runs", "/public/..;/admin", anon, nil},
		{"slash run", "runs", "//admin", user, nil},
		{"encoded letter", "runs", "/%61dmin", user, nil},
		{"host trailing dot", adminHost + ".", "/x", user, nil},
		{"host upper case", "ADMIN.EXAMPLE.COM", "/x", user, nil},
		{"host with port", adminHost + ":443", "/x", user, nil},
		{"host two ports", adminHost + ":443:80", "/x", user, nil},
		{"forged identity on a public route", "runs", "/public/x", anon, forged},
		{"forged identity, user without groups", "runs", "/api/runs", user, forged},
		{"forged identity on admin as a user", "runs", "/admin", user, forged},
		{"junk bearer on a public route", "runs", "/public/x", anon, [][2]string{{"Authorization", "Bearer junk"}, {"Flyte-Authorization", "Bearer junk"}}},
		{"junk flyte bearer beside a valid one", "runs", "/api/runs", user, [][2]string{{"Flyte-Authorization", "Bearer junk"}, {"flyte_authorization", "Bearer junk"}}},
	}
	for name, up := range upstreams() {
		srv := httptest.NewServer(up)
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		front := httptest.NewServer(&envoysim.Front{Check: p.client, Upstream: u})
		t.Cleanup(front.Close)
		addr := strings.TrimPrefix(front.URL, "http://")
		t.Run(name, func(t *testing.T) {
			// A control: the entitled caller is served, so a pass below is
			// not an idgate that refuses everything.
			if st := rawhttp.Get(t, addr, "runs", "/admin/x", [][2]string{{"Authorization", alice}}); st != 200 || up.take().level != levelAdmin {
				t.Fatalf("control: alice on /admin/x got %d", st)
			}
			for _, a := range attacks {
				t.Run(a.name, func(t *testing.T) {
					hs := append([][2]string(nil), a.headers...)
					if a.who.auth != "" {
						hs = append(hs, [2]string{"Authorization", a.who.auth})
					}
					status := rawhttp.Get(t, addr, a.host, a.target, hs)
					s := up.take()
					if s == nil {
						if status == 200 {
							t.Fatalf("200 without the upstream serving")
						}
						return // refused before the upstream
					}
					if s.level > a.who.level {
						t.Errorf("%s served a level-%d handler to %s (status %d)", name, s.level, a.who.name, status)
					}
					for _, v := range s.users {
						if v != a.who.user {
							t.Errorf("%s read user id %q, want only %q", name, v, a.who.user)
						}
					}
					for _, v := range s.tokens {
						if v != a.who.auth {
							t.Errorf("%s could decode an unverified credential %.20q", name, v)
						}
					}
					for _, v := range s.groups {
						if strings.Contains(v, forgedGroups) {
							t.Errorf("%s read groups %q", name, v)
						}
					}
				})
			}
		})
	}
}
