package decision

import (
	"context"
	"slices"
	"testing"
)

func TestShadowMode(t *testing.T) {
	e := mustEngine(t, []Route{
		{PathPrefix: "/healthz", Public: true},
		{PathPrefix: "/enforced", Mode: ModeEnforce},
		{PathPrefix: "/admin", AllowGroups: []string{"admins"}},
	})
	e.cfg.Shadow = true
	e.cfg.ShadowCompare = []string{"kubeflow-userid", "kubeflow-groups"}
	tests := []struct {
		name           string
		path           string
		headers        map[string]string
		wantShadow     bool
		wantWouldAllow bool
		wantMismatches []string
	}{
		{"same identity as the ALB", "/api", map[string]string{"authorization": "Bearer alice", "x-amzn-oidc-identity": "a",
			"kubeflow-userid": "alice@example.com", "kubeflow-groups": "admins,dev"}, true, true, nil},
		{"different user id", "/api", map[string]string{"authorization": "Bearer alice", "kubeflow-userid": "alice@corp.example",
			"kubeflow-groups": "admins,dev"}, true, true, []string{"kubeflow-userid"}},
		{"different subject", "/api", map[string]string{"authorization": "Bearer bob", "x-amzn-oidc-identity": "bob-alb"},
			true, true, []string{"x-amzn-oidc-identity"}},
		{"would deny what the ALB let in", "/admin", map[string]string{"authorization": "Bearer bob", "kubeflow-userid": "bob@other.org"},
			true, false, []string{"decision"}},
		{"would deny, nothing to compare", "/api", map[string]string{}, true, false, nil},
		{"route overrides to enforce", "/enforced", map[string]string{}, false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Path: tc.path, Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			if res.Shadow != tc.wantShadow {
				t.Fatalf("shadow = %v", res.Shadow)
			}
			if !tc.wantShadow {
				if res.Allowed {
					t.Fatal("an enforced route allowed a request without a token")
				}
				return
			}
			if !res.Allowed || res.Set != nil || res.ResponseHeaders != nil {
				t.Fatalf("shadow mode set headers: %+v", res)
			}
			for _, kept := range []string{"kubeflow-userid", "kubeflow-groups", "x-amzn-oidc-identity", "x-amzn-oidc-data", "authorization"} {
				if slices.Contains(res.Remove, kept) {
					t.Fatalf("shadow mode removed %s, which the proxy being replaced writes: %v", kept, res.Remove)
				}
			}
			if res.WouldAllow != tc.wantWouldAllow || !slices.Equal(res.Mismatches, tc.wantMismatches) {
				t.Fatalf("would allow %v mismatches %v; want %v %v", res.WouldAllow, res.Mismatches, tc.wantWouldAllow, tc.wantMismatches)
			}
		})
	}
}

// TestShadowModeStillStrips: shadow mode changes nothing the proxy being
// replaced writes (the compared headers, ALB's), but every other identity
// header a client sent is removed, as in enforce mode: Flyte would take a
// client's x-flyte-identity, a WSGI app its kubeflow_userid.
func TestShadowModeStillStrips(t *testing.T) {
	e := mustEngine(t, nil)
	e.cfg.Shadow = true
	e.cfg.ShadowCompare = []string{"kubeflow-userid", "kubeflow-groups"}
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
	}{
		{"would allow", "/api", map[string]string{"authorization": "Bearer alice"}},
		{"would deny", "/api", map[string]string{}},
		{"refused path", "/a/%2e%2e/b", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{
				"kubeflow-userid": "alice@example.com", "x-amzn-oidc-data": "alb",
				"x-flyte-identity": "forged", "kubeflow_userid": "root", "x-forwarded-user": "root",
				"x-pomerium-jwt-assertion": "forged", "x-auth-request-email": "root@example.com",
			}
			for k, v := range tc.headers {
				h[k] = v
			}
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: tc.path, Headers: h})
			if err != nil || !res.Shadow || !res.Allowed {
				t.Fatalf("%v %+v", err, res)
			}
			for _, n := range []string{"x-flyte-identity", "kubeflow_userid", "x-forwarded-user", "x-pomerium-jwt-assertion", "x-auth-request-email"} {
				if !slices.Contains(res.Remove, n) {
					t.Errorf("shadow mode lets a client's %s through: removes %v", n, res.Remove)
				}
			}
			for _, n := range []string{"kubeflow-userid", "x-amzn-oidc-data"} {
				if slices.Contains(res.Remove, n) {
					t.Errorf("shadow mode removes the replaced proxy's %s", n)
				}
			}
		})
	}
}
