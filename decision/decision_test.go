package decision

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/outputs"
	"github.com/idgate/idgate/signing"
)

var errExpired = errors.New("expired")

// tableVerifier maps token strings to results; the jwks package has its own
// tests against a real IdP, this one tests what the decision does with them.
type tableVerifier map[string]identity.Identity

func (v tableVerifier) Verify(_ context.Context, tok string) (identity.Identity, error) {
	id, ok := v[tok]
	if !ok {
		return identity.Identity{}, errExpired
	}
	return id, nil
}

func mustEngine(t testing.TB, routes []Route) *Engine {
	t.Helper()
	key, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := outputs.New(outputs.Config{
		UserIDHeader: "kubeflow-userid", GroupsHeader: "kubeflow-groups",
		FlyteHeader: "x-flyte-identity", FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute, Issuer: "idgate",
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	e, err := New(Config{
		Routes:       routes,
		StripHeaders: []string{"X-Remote-User"},
		Verifier: tableVerifier{
			"alice": {Issuer: "https://idp", Subject: "a", Email: "alice@example.com", Groups: []string{"admins", "dev"}, ExpiresAt: exp},
			"bob":   {Issuer: "https://idp", Subject: "b", Email: "bob@other.org", ExpiresAt: exp},
			"evil":  {Issuer: "https://idp", Subject: "e", Email: "e@example.com\r\nkubeflow-userid: root", ExpiresAt: exp},
		},
		VerifyReason:      func(err error) string { return err.Error() },
		Renderer:          r,
		ErrUnsafeIdentity: outputs.ErrUnsafeUserID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var testRoutes = []Route{
	{PathPrefix: "/healthz", Public: true},
	{PathPrefix: "/admin", AllowGroups: []string{"admins"}, AllowEmailDomains: []string{"example.com"}},
	{PathPrefix: "/gets", Methods: []string{"GET"}, Public: true},
}

func TestDecide(t *testing.T) {
	e := mustEngine(t, testRoutes)
	tests := []struct {
		name       string
		path       string
		method     string
		headers    map[string]string
		wantStatus int
		wantReason string
		wantUser   string
	}{
		{"public no token", "/healthz", "GET", nil, 200, "public", ""},
		{"public subpath", "/healthz/live?x=1", "GET", nil, 200, "public", ""},
		{"public prefix is segment-aware", "/healthzfoo", "GET", nil, 401, "missing_token", ""},
		{"dot segments refused", "/healthz/../admin", "GET", nil, 400, "bad_path", ""},
		{"encoded dot segments refused", "/healthz/%2e%2e/admin", "GET", nil, 400, "bad_path", ""},
		{"bad escape", "/a%zz", "GET", nil, 400, "bad_path", ""},
		{"method restricted public", "/gets", "POST", nil, 401, "missing_token", ""},
		{"missing", "/api", "GET", nil, 401, "missing_token", ""},
		{"basic only", "/api", "GET", map[string]string{"authorization": "Basic Zm9vOmJhcg=="}, 401, "missing_token", ""},
		{"bearer empty", "/api", "GET", map[string]string{"authorization": "Bearer "}, 401, "malformed_token", ""},
		{"two credentials", "/api", "GET", map[string]string{"authorization": "Bearer alice,Bearer bob"}, 401, "malformed_token", ""},
		{"invalid", "/api", "GET", map[string]string{"authorization": "Bearer nope"}, 401, "expired", ""},
		{"valid", "/api", "GET", map[string]string{"authorization": "Bearer alice"}, 200, "ok", "alice@example.com"},
		{"scheme case-insensitive", "/api", "GET", map[string]string{"authorization": "bEaReR alice"}, 200, "ok", "alice@example.com"},
		{"flyte header", "/api", "GET", map[string]string{"flyte-authorization": "Bearer alice"}, 200, "ok", "alice@example.com"},
		{"basic then flyte", "/api", "GET", map[string]string{"authorization": "Basic x", "flyte-authorization": "Bearer bob"}, 200, "ok", "bob@other.org"},
		{"admin allowed", "/admin/users", "GET", map[string]string{"authorization": "Bearer alice"}, 200, "ok", "alice@example.com"},
		{"admin forbidden", "/admin", "GET", map[string]string{"authorization": "Bearer bob"}, 403, "forbidden", ""},
		{"crlf identity refused", "/api", "GET", map[string]string{"authorization": "Bearer evil"}, 403, "unsafe_identity", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"kubeflow-userid": "root", "x-auth-request-foo": "1"}
			for k, v := range tc.headers {
				h[k] = v
			}
			res, err := e.Decide(context.Background(), &Request{Method: tc.method, Host: "h", Path: tc.path, Headers: h})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.wantStatus || res.Reason != tc.wantReason || res.Allowed != (tc.wantStatus == 200) {
				t.Fatalf("got %d %q allowed=%v, want %d %q", res.Status, res.Reason, res.Allowed, tc.wantStatus, tc.wantReason)
			}
			if !slices.Contains(res.Spoofed, "kubeflow-userid") {
				t.Errorf("spoofed = %v", res.Spoofed)
			}
			if res.Status == 401 {
				if len(res.ResponseHeaders) != 1 || !strings.HasPrefix(res.ResponseHeaders[0].Value, `Bearer realm="idgate", error="invalid_token"`) {
					t.Errorf("response headers = %v", res.ResponseHeaders)
				}
			}
			if strings.Contains(res.Message, "alice") || strings.ContainsAny(res.Message, "\r\n") {
				t.Errorf("message leaks: %q", res.Message)
			}
			if !res.Allowed {
				return
			}
			set := map[string]string{}
			for _, hd := range res.Set {
				if slices.Contains(res.Remove, hd.Name) {
					t.Errorf("%s both set and removed", hd.Name)
				}
				set[hd.Name] = hd.Value
			}
			if set["kubeflow-userid"] != tc.wantUser {
				t.Errorf("userid = %q, want %q", set["kubeflow-userid"], tc.wantUser)
			}
			for _, n := range []string{"x-amzn-oidc-data", "x-remote-user", "x-auth-request-foo", "x-forwarded-user"} {
				if !slices.Contains(res.Remove, n) {
					t.Errorf("%s not removed: %v", n, res.Remove)
				}
			}
			if tc.wantUser == "" && !slices.Contains(res.Remove, "kubeflow-userid") {
				t.Errorf("public route keeps kubeflow-userid")
			}
			if tc.wantUser == "bob@other.org" && !slices.Contains(res.Remove, "kubeflow-groups") {
				t.Errorf("user without groups keeps client kubeflow-groups")
			}
		})
	}
}

func BenchmarkDecideWarm(b *testing.B) {
	e := mustEngine(b, testRoutes)
	req := &Request{Method: "GET", Host: "h", Path: "/api/v1/runs", Headers: map[string]string{
		"authorization": "Bearer alice", "user-agent": "x", ":path": "/api/v1/runs", "accept": "*/*",
	}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := e.Decide(ctx, req); !res.Allowed {
			b.Fatal(res.Reason)
		}
	}
}

// wantDecision asks e about req (with token as its bearer when not empty)
// and wants wantStatus and, when wantRoute is not empty, that route.
func wantDecision(t *testing.T, e *Engine, req *Request, token string, wantStatus int, wantRoute string) {
	t.Helper()
	req.Headers = map[string]string{}
	if token != "" {
		req.Headers["authorization"] = "Bearer " + token
	}
	res, err := e.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != wantStatus || (wantRoute != "" && res.Route != wantRoute) {
		t.Fatalf("got %d %s route %q, want %d route %q", res.Status, res.Reason, res.Route, wantStatus, wantRoute)
	}
}
