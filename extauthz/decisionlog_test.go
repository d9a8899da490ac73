package extauthz

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/decidertest"
)

func TestDecisionLogSetting(t *testing.T) {
	alice := &identity.Identity{Issuer: "https://idp", Subject: "alice", Email: "alice@example.com", UserClaim: "email"}
	allow := decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "/pipeline", Identity: alice}
	deny := decision.Result{Reply: decision.Reply{Status: 403, Reason: "forbidden"}, Route: "/pipeline", Identity: alice}
	shadowDeny := decision.Result{Allowed: true, Shadow: true, Reply: decision.Reply{Status: 403, Reason: "forbidden"}, Route: "/pipeline", Identity: alice}
	shadowAllow := decision.Result{Allowed: true, Shadow: true, WouldAllow: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "/pipeline", Identity: alice}
	tests := []struct {
		setting string
		res     decision.Result
		logged  bool
	}{
		{"all", allow, true}, {"all", deny, true}, {"", allow, true},
		{"denied", allow, false}, {"denied", deny, true}, {"denied", shadowDeny, true}, {"denied", shadowAllow, false},
		{"none", allow, false}, {"none", deny, false},
	}
	for _, tc := range tests {
		t.Run(tc.setting+"/"+decisionlog.Result(&tc.res), func(t *testing.T) {
			var buf bytes.Buffer
			s, _ := newServer(t, decidertest.Fixed{Result: tc.res}, decisionlog.Config{LogDecisions: tc.setting,
				Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
			if _, err := s.Check(context.Background(), checkFor("/pipeline/runs?x=1")); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), `"msg":"decision"`); got != tc.logged {
				t.Fatalf("logged = %v, want %v:\n%s", got, tc.logged, buf.String())
			}
		})
	}
	if _, err := decisionlog.New(decisionlog.Config{LogDecisions: "some"}); err == nil {
		t.Fatal(`LogDecisions "some" accepted`)
	}
}

// TestDecisionLogLine checks every field of one line, the id made up for a
// request that came without one, and the path without query or fragment.
func TestDecisionLogLine(t *testing.T) {
	alice := &identity.Identity{Issuer: "https://idp", Subject: "alice-sub", Email: "alice@example.com", UserClaim: "email"}
	tests := []struct {
		name string
		res  decision.Result
		want map[string]any
	}{
		{"denied user", decision.Result{Reply: decision.Reply{Status: 403, Reason: "forbidden"}, Route: "/pipeline", Identity: alice},
			map[string]any{"method": "POST", "host": "kubeflow.example.com", "path": "/pipeline/apis/v2beta1/runs",
				"route": "/pipeline", "result": "deny", "status": 403.0, "reason": "forbidden",
				"issuer": "https://idp", "subject": "alice-sub", "user_id": "alice@example.com"}},
		{"forwarder named", decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "/", Identity: alice, Forwarder: "spiffe://cluster/ns/gw"},
			map[string]any{"result": "allow", "status": 200.0, "forwarder": "spiffe://cluster/ns/gw"}},
		{"anonymous", decision.Result{Reply: decision.Reply{Status: 401, Reason: "missing_token"}, Route: "/pipeline"},
			map[string]any{"result": "deny", "status": 401.0, "reason": "missing_token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s, _ := newServer(t, decidertest.Fixed{Result: tc.res}, decisionlog.Config{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
			req := checkFor("/pipeline/apis/v2beta1/runs?token=query-secret#frag")
			req.Attributes.Request.Http.Method = "POST"
			if _, err := s.Check(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			for k, v := range tc.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %v", k, line[k], v)
				}
			}
			if id, _ := line["decision_id"].(string); len(id) != 24 {
				t.Errorf("decision_id = %q, want a generated one", id)
			}
			if _, ok := line["duration_seconds"]; !ok {
				t.Error("no duration_seconds")
			}
			if _, ok := line["forwarder"]; ok && tc.res.Forwarder == "" {
				t.Error("an empty forwarder is logged")
			}
			if tc.res.Identity == nil {
				for _, k := range []string{"issuer", "subject", "user_id"} {
					if _, ok := line[k]; ok {
						t.Errorf("anonymous line has %s", k)
					}
				}
			}
			if strings.Contains(buf.String(), "query-secret") || strings.Contains(buf.String(), "frag") {
				t.Errorf("query or fragment logged: %s", buf.String())
			}
		})
	}
}

func checkFor(path string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Host: "kubeflow.example.com", Path: path,
			Headers: map[string]string{}},
	}}}
}
