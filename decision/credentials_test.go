package decision

import (
	"context"
	"slices"
	"testing"
)

// TestStrayCredentialsRemoved: a bearer credential that did not verify
// never goes upstream, on any route kind; the one that authenticated does.
func TestStrayCredentialsRemoved(t *testing.T) {
	e := mustEngine(t, testRoutes)
	e.cfg.Browser = fakeBrowser{}
	tests := []struct {
		name        string
		path        string
		headers     map[string]string
		wantRemoved []string
		wantKept    []string
	}{
		{"public, junk bearer", "/healthz", map[string]string{"authorization": "Bearer junk"}, []string{"authorization"}, nil},
		{"public, junk flyte bearer", "/healthz", map[string]string{"flyte-authorization": "Bearer junk"}, []string{"flyte-authorization"}, nil},
		{"public, malformed bearer", "/healthz", map[string]string{"authorization": "Bearer a b"}, []string{"authorization"}, nil},
		{"public, bearer in a later copy", "/healthz", map[string]string{"authorization": "Basic eA==,Bearer junk"}, []string{"authorization"}, nil},
		{"public, verified bearer", "/healthz", map[string]string{"authorization": "Bearer alice"}, nil, []string{"authorization"}},
		{"public, basic", "/healthz", map[string]string{"authorization": "Basic eA=="}, nil, []string{"authorization"}},
		{"protected, junk beside the verified one", "/api", map[string]string{"authorization": "Bearer alice", "flyte-authorization": "Bearer junk"},
			[]string{"flyte-authorization"}, []string{"authorization"}},
		{"protected, basic beside a verified flyte bearer", "/api", map[string]string{"authorization": "Basic eA==", "flyte-authorization": "Bearer alice"},
			nil, []string{"authorization", "flyte-authorization"}},
		{"protected, underscore spelling of the flyte header", "/api", map[string]string{"authorization": "Bearer alice", "flyte_authorization": "Bearer junk"},
			[]string{"flyte_authorization"}, []string{"authorization"}},
		{"session, junk bearer in a later copy", "/api", map[string]string{"cookie": "idgate_session=s1", "authorization": "Basic eA==,Bearer junk"},
			[]string{"authorization"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: tc.path, Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Allowed {
				t.Fatalf("denied: %d %s", res.Status, res.Reason)
			}
			for _, n := range tc.wantRemoved {
				if !slices.Contains(res.Remove, n) {
					t.Errorf("%s goes upstream: remove = %v", n, res.Remove)
				}
			}
			for _, n := range tc.wantKept {
				if slices.Contains(res.Remove, n) {
					t.Errorf("%s removed", n)
				}
			}
		})
	}
}

// TestUnderscoreSpellingsStrippedOnEveryRoute: a WSGI upstream reads
// kubeflow_groups as kubeflow-groups, so every "_" spelling of a stripped
// header is removed by its own name, on every route kind, and reported by
// its normal name.
func TestUnderscoreSpellingsStrippedOnEveryRoute(t *testing.T) {
	e := mustEngine(t, testRoutes)
	e.cfg.Browser = fakeBrowser{}
	forged := []string{"kubeflow_userid", "kubeflow_groups", "x_flyte_identity", "x_amzn_oidc_data", "x_forwarded_user",
		"x_auth_request_role", "x_remote_user", "remote_user", "x_pomerium_claim_email", "cf_access_authenticated_user_email"}
	tests := []struct {
		name, path string
		headers    map[string]string
	}{
		{"public", "/healthz", nil},
		{"default, user without groups", "/api", map[string]string{"authorization": "Bearer bob"}},
		{"restricted", "/admin", map[string]string{"authorization": "Bearer alice"}},
		{"session", "/api", map[string]string{"cookie": "idgate_session=s1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			for _, n := range forged {
				h[n] = "admins"
			}
			for k, v := range tc.headers {
				h[k] = v
			}
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: tc.path, Headers: h})
			if err != nil || !res.Allowed {
				t.Fatalf("denied: %v %d %s", err, res.Status, res.Reason)
			}
			for _, n := range forged {
				if !slices.Contains(res.Remove, n) {
					t.Errorf("%s goes upstream", n)
				}
			}
			for _, n := range []string{"kubeflow-groups", "x-amzn-oidc-data", "remote-user", "x-auth-request-*", "x-pomerium-*", "cf-access-*"} {
				if !slices.Contains(res.Spoofed, n) {
					t.Errorf("spoofed = %v, want %s", res.Spoofed, n)
				}
			}
		})
	}
}
