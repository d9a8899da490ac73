package decision

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// linearFirst is the reference matcher the index must agree with: the
// table scanned in order.
func linearFirst(routes []Route) func(method, host string, f pathForm) *Route {
	return func(method, host string, f pathForm) *Route {
		for i := range routes {
			if routes[i].matches(method, host, f) {
				return &routes[i]
			}
		}
		return nil
	}
}

// Pieces random route tables and requests are made of: letter case,
// encodings, non-ASCII segments whose Unicode case folds to ASCII (ſ, the
// Kelvin sign), ";params", "//" runs, encoded slashes and over-long
// segments, so every multi-reading rule of path.go is exercised.
var (
	indexSegments = []string{"admin", "Admin", "ADMIN", "api", "API", "public", "files", "caf%C3%A9", "café", "CAFÉ",
		"s", "ſ", "k", "\u212a", "x", "runs", "v1", strings.Repeat("l", 70), strings.Repeat("L", 64)}
	indexDecorations = []string{"", "", "", "%2F", "%2f", "%5C", ";x", "/", "%41", "%61", "%252F", "%25", "%2e"}
	indexHosts       = []string{"a.example.com", "b.example.com", "c.example.com"}
	indexMethods     = []string{"GET", "POST", "PUT", "get"}
)

func randomPrefix(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return "/"
	case 1:
		return ""
	}
	var b strings.Builder
	for n := 1 + r.IntN(2); n > 0; n-- {
		b.WriteString("/" + indexSegments[r.IntN(len(indexSegments))])
	}
	if r.IntN(4) == 0 {
		b.WriteString("/")
	}
	return b.String()
}

func randomRoutes(r *rand.Rand, n int) []Route {
	routes := make([]Route, n)
	for i := range routes {
		rt := Route{PathPrefix: randomPrefix(r), Public: r.IntN(3) == 0, AllowEncodedSlashes: r.IntN(3) == 0}
		if r.IntN(2) == 0 {
			for k := 1 + r.IntN(2); k > 0; k-- {
				h := indexHosts[r.IntN(2)] // c.example.com stays unlisted
				if r.IntN(3) == 0 {
					h = strings.ToUpper(h) + "."
				}
				rt.Hosts = append(rt.Hosts, h)
			}
		}
		if r.IntN(3) == 0 {
			rt.Methods = []string{indexMethods[r.IntN(len(indexMethods))]}
		}
		routes[i] = rt
	}
	return routes
}

func randomTarget(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(4); n >= 0; n-- {
		b.WriteString("/")
		seg := indexSegments[r.IntN(len(indexSegments))]
		if r.IntN(4) == 0 {
			seg = strings.ToUpper(seg)
		}
		b.WriteString(seg)
		b.WriteString(indexDecorations[r.IntN(len(indexDecorations))])
	}
	if r.IntN(8) == 0 {
		b.WriteString("?q=/admin")
	}
	return b.String()
}

// TestRouteIndexMatchesLinearScan: on random route tables (host, method,
// public and encoded-slash routes mixed) and random requests, the indexed
// route choice is exactly the linear first-match choice, including
// bad_path when readings disagree.
func TestRouteIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 3))
	var matched, refused, none int
	for table := 0; table < 300; table++ {
		n := 1 + rng.IntN(40)
		if table%50 == 0 {
			n = 1000
		}
		e := mustEngine(t, randomRoutes(rng, n))
		linear := linearFirst(e.cfg.Routes)
		for q := 0; q < 400; q++ {
			method := indexMethods[rng.IntN(len(indexMethods))]
			host, _ := normalHost(indexHosts[rng.IntN(len(indexHosts))])
			target := randomTarget(rng)
			want, wantOK := routeFor(linear, method, host, target)
			got, gotOK := routeFor(e.routes.indexed, method, host, target) // the index even for small tables
			if r, ok := e.route(method, host, target); r != got || ok != gotOK {
				t.Fatalf("engine route %s/%v, index %s/%v", r.name(), ok, got.name(), gotOK)
			}
			if got != want || gotOK != wantOK {
				t.Fatalf("table %d (%d routes) %s %s %q: index %s/%v, linear %s/%v",
					table, n, method, host, target, got.name(), gotOK, want.name(), wantOK)
			}
			switch {
			case !gotOK:
				refused++
			case got == nil:
				none++
			default:
				matched++
			}
		}
	}
	// The generator must reach every outcome, or the comparison proves little.
	if matched < 10000 || refused < 1000 || none < 1000 {
		t.Fatalf("weak coverage: %d matched, %d refused, %d unmatched", matched, refused, none)
	}
}

// TestRouteIndexCases: the cases where a key could go wrong.
func TestRouteIndexCases(t *testing.T) {
	routes := []Route{
		{PathPrefix: "/public", Public: true},                     // 0: exact case
		{PathPrefix: "/Admin", Hosts: []string{"A.example.com."}}, // 1
		{PathPrefix: "/admin", Methods: []string{"post"}},         // 2
		{PathPrefix: "/s"},                          // 3
		{PathPrefix: "/caf\u00e9"},                  // 4: not ASCII
		{PathPrefix: "/" + strings.Repeat("l", 70)}, // 5: too long a key
		{PathPrefix: "/"},                           // 6: everything
	}
	e := mustEngine(t, routes)
	for _, tc := range []struct {
		name, method, host, path string
		want                     int // -1: no route; -2: refused
	}{
		{"exact public", "GET", "b.example.com", "/public/x", 0},
		{"public other case falls through", "GET", "b.example.com", "/PUBLIC/x", 6},
		{"host route any case", "GET", "a.example.com", "/ADMIN/x", 1},
		{"method route", "POST", "b.example.com", "/aDmin", 2},
		{"neither host nor method", "GET", "b.example.com", "/admin", 6},
		{"long s is not s", "GET", "b.example.com", "/\u017f", 6},
		{"non-ASCII prefix", "GET", "b.example.com", "/caf%C3%A9/x", 4},
		{"long key", "GET", "b.example.com", "/" + strings.Repeat("L", 70) + "/x", 5},
		{"prefix of a segment only", "GET", "b.example.com", "/sx", 6},
		{"readings disagree", "GET", "b.example.com", "/public;x/y", -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := e.route(tc.method, tc.host, tc.path)
			want, wantOK := routeFor(linearFirst(e.cfg.Routes), tc.method, tc.host, tc.path)
			if got != want || ok != wantOK {
				t.Fatalf("index %s/%v, linear %s/%v", got.name(), ok, want.name(), wantOK)
			}
			switch {
			case tc.want == -2 && ok, tc.want >= 0 && (!ok || got != &e.cfg.Routes[tc.want]), tc.want == -1 && got != nil:
				t.Fatalf("got %s/%v, want route %d", got.name(), ok, tc.want)
			}
		})
	}
}

// BenchmarkRoute: the route choice for a plain path with 1, 100 and 1,000
// routes that have host and method filters; the matched route is the last
// one, where a linear scan pays most. "linear" is the scan the index
// replaced, for comparison.
func BenchmarkRoute(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		e := mustEngine(b, benchRoutes(n))
		target := fmt.Sprintf("/svc%d/runs/42", n-1)
		for _, m := range []struct {
			name  string
			first func(method, host string, f pathForm) *Route
		}{{"index", e.routes.first}, {"linear", linearFirst(e.cfg.Routes)}, {"index-only", e.routes.indexed}} {
			b.Run(fmt.Sprintf("routes=%d/%s", n, m.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if r, ok := routeFor(m.first, "GET", "h1.example.com", target); !ok || r == nil {
						b.Fatal("no route")
					}
				}
			})
		}
	}
}

// benchRoutes is a table of n routes, each for its own service prefix,
// alternately restricted to a host and to methods.
func benchRoutes(n int) []Route {
	routes := make([]Route, n)
	for i := range routes {
		routes[i] = Route{PathPrefix: fmt.Sprintf("/svc%d", i), AllowGroups: []string{"dev"}}
		if i%2 == 0 {
			routes[i].Hosts = []string{fmt.Sprintf("h%d.example.com", i%7), "h1.example.com"}
		} else {
			routes[i].Methods = []string{"GET", "POST"}
		}
	}
	return routes
}
