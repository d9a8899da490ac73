package decision

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/identity"
)

const (
	uiPrincipal   = "spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline-ui"
	dashPrincipal = "spiffe://cluster.local/ns/kubeflow/sa/centraldashboard"
)

// mustForwardEngine is mustEngine with ml-pipeline-ui trusted to forward
// kubeflow-userid and centraldashboard the user id and groups.
func mustForwardEngine(t testing.TB, routes []Route) *Engine {
	t.Helper()
	cfg := mustEngine(t, routes).cfg
	cfg.UserIDHeader, cfg.GroupsHeader = "kubeflow-userid", "kubeflow-groups"
	cfg.Forwarders = []Forwarder{
		{Principal: uiPrincipal, Headers: []string{"kubeflow-userid"}},
		{Principal: dashPrincipal, Headers: []string{"Kubeflow-Userid", "kubeflow-groups"}},
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestForwardedIdentity: only a listed mTLS principal passes its listed
// headers on, once each and clean; a token, when sent, decides instead.
func TestForwardedIdentity(t *testing.T) {
	e := mustForwardEngine(t, []Route{
		{PathPrefix: "/healthz", Public: true},
		{PathPrefix: "/admin", AllowGroups: []string{"admins"}},
		{PathPrefix: "/corp", AllowEmailDomains: []string{"example.com"}},
	})
	user := map[string]string{"kubeflow-userid": "alice@example.com"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name      string
		principal string
		path      string
		headers   map[string]string
		repeated  []string
		status    int
		reason    string
		forwarder string
		kept      []string // forwarded headers left on the request
		set       string   // kubeflow-userid idgate writes ("" none)
	}{
		{"ui forwards the user", uiPrincipal, "/apis/v2beta1/runs", user, nil, 200, "forwarded", uiPrincipal, []string{"kubeflow-userid"}, ""},
		{"ui cannot forward groups", uiPrincipal, "/apis", with(user, "kubeflow-groups", "admins"), nil, 200, "forwarded", uiPrincipal, []string{"kubeflow-userid"}, ""},
		{"dashboard forwards user and groups", dashPrincipal, "/kfam/v1/bindings", with(user, "kubeflow-groups", "admins,dev"), nil, 200, "forwarded", dashPrincipal, []string{"kubeflow-userid", "kubeflow-groups"}, ""},
		{"forwarded groups meet a group rule", dashPrincipal, "/admin/x", with(user, "kubeflow-groups", "dev,admins"), nil, 200, "forwarded", dashPrincipal, []string{"kubeflow-userid", "kubeflow-groups"}, ""},
		{"forwarded groups fail a group rule", dashPrincipal, "/admin/x", with(user, "kubeflow-groups", "dev"), nil, 403, "forbidden", "", nil, ""},
		{"groups never forwarded fail a group rule", uiPrincipal, "/admin/x", with(user, "kubeflow-groups", "admins"), nil, 403, "forbidden", "", nil, ""},
		{"a forwarded user has no verified email", uiPrincipal, "/corp", user, nil, 403, "forbidden", "", nil, ""},
		{"an encoded group name is decoded", dashPrincipal, "/admin", with(user, "kubeflow-groups", "x%2Cy,admins"), nil, 200, "forwarded", dashPrincipal, []string{"kubeflow-userid", "kubeflow-groups"}, ""},
		{"public route strips forwarded headers", uiPrincipal, "/healthz", user, nil, 200, "public", "", nil, ""},
		{"unlisted peer", "spiffe://cluster.local/ns/alice/sa/default-editor", "/apis", user, nil, 401, "missing_token", "", nil, ""},
		{"plaintext peer", "", "/apis", user, nil, 401, "missing_token", "", nil, ""},
		{"a client certificate header is no principal", "", "/apis", with(user, "x-forwarded-client-cert", "By=x;URI="+uiPrincipal), nil, 401, "missing_token", "", nil, ""},
		{"principal differs in case", strings.ToUpper(uiPrincipal), "/apis", user, nil, 401, "missing_token", "", nil, ""},
		{"two copies joined by Envoy", uiPrincipal, "/apis", map[string]string{"kubeflow-userid": "alice@example.com,root@example.com"}, nil, 400, "forwarded_copies", "", nil, ""},
		{"two copies reported", dashPrincipal, "/apis", with(user, "kubeflow-groups", "admins"), []string{"kubeflow-groups"}, 400, "forwarded_copies", "", nil, ""},
		{"underscore spelling beside", uiPrincipal, "/apis", with(user, "kubeflow_userid", "root@example.com"), nil, 400, "forwarded_copies", "", nil, ""},
		{"underscore spelling alone", uiPrincipal, "/apis", map[string]string{"kubeflow_userid": "root@example.com"}, nil, 400, "forwarded_copies", "", nil, ""},
		{"CR LF in the value", uiPrincipal, "/apis", map[string]string{"kubeflow-userid": "alice@example.com\r\nx-admin: 1"}, nil, 400, "forwarded_unsafe", "", nil, ""},
		{"NUL in the value", uiPrincipal, "/apis", map[string]string{"kubeflow-userid": "alice\x00@example.com"}, nil, 400, "forwarded_unsafe", "", nil, ""},
		{"listed user id missing", dashPrincipal, "/apis", map[string]string{"kubeflow-groups": "admins"}, nil, 401, "missing_token", "", nil, ""},
		{"no forwarded header", uiPrincipal, "/apis", map[string]string{"accept": "*/*"}, nil, 401, "missing_token", "", nil, ""},
		{"a verified token decides", uiPrincipal, "/apis", with(user, "kubeflow-userid", "root@example.com", "authorization", "Bearer bob"), nil, 200, "ok", "", nil, "bob@other.org"},
		{"an invalid token is refused", uiPrincipal, "/apis", with(user, "authorization", "Bearer forged"), nil, 401, "expired", "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "ml-pipeline.kubeflow:8888", Path: tc.path,
				Headers: tc.headers, Principal: tc.principal, Repeated: tc.repeated})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || res.Reason != tc.reason || res.Forwarder != tc.forwarder {
				t.Fatalf("got %d %s forwarder %q, want %d %s %q", res.Status, res.Reason, res.Forwarder, tc.status, tc.reason, tc.forwarder)
			}
			if !res.Allowed {
				return
			}
			for _, n := range identityHeaders {
				if _, sent := tc.headers[n]; sent && !slices.Contains(tc.kept, n) && !slices.Contains(res.Remove, n) && valueOf(res.Set, n) == "" {
					t.Errorf("%s goes upstream as the client sent it", n)
				}
			}
			for n := range tc.headers {
				if strings.Contains(n, "_") && !slices.Contains(res.Remove, n) {
					t.Errorf("%s goes upstream", n)
				}
			}
			for _, n := range tc.kept {
				if slices.Contains(res.Remove, n) || valueOf(res.Set, n) != "" {
					t.Errorf("forwarded %s is not passed on unchanged", n)
				}
			}
			if got := valueOf(res.Set, "kubeflow-userid"); got != tc.set {
				t.Errorf("kubeflow-userid set to %q, want %q", got, tc.set)
			}
		})
	}
}

func TestForwardedIdentityFields(t *testing.T) {
	e := mustForwardEngine(t, nil)
	res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: "/kfam", Principal: dashPrincipal,
		Headers: map[string]string{"kubeflow-userid": "alice@example.com", "kubeflow-groups": "b,a%25x,b", "authorization": "Basic eA==,Bearer x"}})
	if err != nil || !res.Allowed {
		t.Fatalf("%v %+v", err, res)
	}
	id := res.Identity
	if id.Source != identity.SourceForwarded || id.UserID() != "alice@example.com" || !slices.Equal(id.Groups, []string{"a%x", "b"}) {
		t.Fatalf("identity = %+v", id)
	}
	if !slices.Contains(res.Remove, "authorization") {
		t.Fatal("a bearer credential beside a forwarded identity goes upstream")
	}
	if len(res.Spoofed) != 0 {
		t.Fatalf("forwarded headers counted as spoof attempts: %v", res.Spoofed)
	}
	res, _ = e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: "/api", Principal: uiPrincipal,
		Headers: map[string]string{"kubeflow-userid": "alice@example.com", "kubeflow-groups": "admins"}})
	if !res.Allowed || !slices.Equal(res.Spoofed, []string{"kubeflow-groups"}) {
		t.Fatalf("a header the forwarder may not send is a spoof attempt: %v %v", res.Allowed, res.Spoofed)
	}
}

func TestForwardersValidated(t *testing.T) {
	tests := []struct {
		name string
		fs   []Forwarder
		want string
	}{
		{"no principal", []Forwarder{{Headers: []string{"kubeflow-userid"}}}, "principal required"},
		{"no headers", []Forwarder{{Principal: uiPrincipal}}, "headers required"},
		{"not an identity header", []Forwarder{{Principal: uiPrincipal, Headers: []string{"x-tenant"}}}, `"x-tenant" is not an identity header`},
		{"twice", []Forwarder{{Principal: uiPrincipal, Headers: []string{"kubeflow-userid"}}, {Principal: uiPrincipal, Headers: []string{"kubeflow-userid"}}}, "listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustEngine(t, nil).cfg
			cfg.Forwarders = tc.fs
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestForwardedShadow: shadow mode reports a forwarded request as an allow
// with no mismatch, and leaves the forwarder's headers in place.
func TestForwardedShadow(t *testing.T) {
	e := mustForwardEngine(t, []Route{{PathPrefix: "/", Mode: ModeShadow}})
	res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: "/x", Principal: uiPrincipal,
		Headers: map[string]string{"kubeflow-userid": "alice@example.com"}})
	if err != nil || !res.Shadow || !res.WouldAllow || len(res.Mismatches) != 0 || slices.Contains(res.Remove, "kubeflow-userid") {
		t.Fatalf("%v %+v", err, res)
	}
}

// FuzzForwardedHeaders: whatever a trusted forwarder sends, an allow on its
// headers passes on only its listed headers, each one clean value under its
// own name, and strips every other identity header.
func FuzzForwardedHeaders(f *testing.F) {
	f.Add("kubeflow-userid", "alice@example.com", "kubeflow-groups", "a,b%2Cc")
	f.Add("kubeflow-userid", "a@x,b@x", "x-flyte-identity", "e30.e30.")
	f.Add("kubeflow_userid", "root", "Kubeflow-Userid", "alice")
	f.Add("kubeflow-groups", "%zz,admins", "kubeflow-userid", "alice\r\nx: y")
	e := mustForwardEngine(f, []Route{{PathPrefix: "/admin", AllowGroups: []string{"admins"}}})
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		h := map[string]string{strings.ToLower(n1): v1}
		if k := strings.ToLower(n2); k != strings.ToLower(n1) {
			h[k] = v2
		}
		for _, path := range []string{"/api", "/admin"} {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: path, Headers: h, Principal: dashPrincipal})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Allowed || res.Forwarder == "" {
				continue
			}
			for name, v := range h {
				norm, _ := normalName(name)
				listed := name == "kubeflow-userid" || name == "kubeflow-groups"
				switch {
				case listed && (strings.ContainsAny(v, "\r\n\x00") || name == "kubeflow-userid" && strings.Contains(v, ",")):
					t.Fatalf("%s %q passed on", name, v)
				case listed && slices.Contains(res.Remove, name):
					t.Fatalf("forwarded %s removed", name)
				case !listed && (contains(e.strip.all, norm) || family(norm) != "") && !slices.Contains(res.Remove, name):
					t.Fatalf("%s goes upstream beside a forwarded identity", name)
				}
			}
			if len(res.Set) != 0 {
				t.Fatalf("a forwarded request gets headers set: %v", res.Set)
			}
		}
	})
}
