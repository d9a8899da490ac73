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
			if !res.Allowed || res.Set != nil || res.Remove != nil || res.ResponseHeaders != nil {
				t.Fatalf("shadow mode changed the request: %+v", res)
			}
			if res.WouldAllow != tc.wantWouldAllow || !slices.Equal(res.Mismatches, tc.wantMismatches) {
				t.Fatalf("would allow %v mismatches %v; want %v %v", res.WouldAllow, res.Mismatches, tc.wantWouldAllow, tc.wantMismatches)
			}
		})
	}
}
