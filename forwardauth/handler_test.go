package forwardauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/extauthz"
	"github.com/idgate/idgate/forwardauth"
	"github.com/idgate/idgate/internal/testkit/decidertest"
)

func TestNewRequiresDeciderAndRecorder(t *testing.T) {
	rec, err := decisionlog.New(decisionlog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     forwardauth.Config
		wantErr string
	}{
		{"no decider", forwardauth.Config{Recorder: rec}, "forwardauth: decider required"},
		{"no recorder", forwardauth.Config{Decider: decidertest.Fixed{}}, "forwardauth: recorder required"},
		{"both", forwardauth.Config{Decider: decidertest.Fixed{}, Recorder: rec}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := forwardauth.New(tc.cfg)
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("New: %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestOneRecorderForBothFrontEnds: a forward-auth decision and an ext_authz
// decision given the same Recorder land in the same metrics and log with
// the same fields; a forward-auth fault is logged but, not being a gRPC
// error, is not counted in check_errors_total.
func TestOneRecorderForBothFrontEnds(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	rec, err := decisionlog.New(decisionlog.Config{Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	deny := decidertest.Fixed{Result: decision.Result{Reply: decision.Reply{Status: 403, Reason: "forbidden", Message: "forbidden"}, Route: "/admin"}}
	authz, err := extauthz.New(extauthz.Config{Decider: deny, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := forwardauth.New(forwardauth.Config{Decider: deny, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	broken, err := forwardauth.New(forwardauth.Config{Decider: decidertest.Fixed{Err: errors.New("boom")}, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fwd)
	defer srv.Close()
	brokenSrv := httptest.NewServer(broken)
	defer brokenSrv.Close()

	if _, err := authz.Check(context.Background(), &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Id: "envoy-1", Method: "GET", Host: "kf.example", Path: "/admin/x"}}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, id string
		want    int
	}{{srv.URL, "fwd-1", http.StatusForbidden}, {brokenSrv.URL, "fwd-2", http.StatusInternalServerError}} {
		req, _ := http.NewRequest("GET", tc.url+"/authz", nil)
		req.Header.Set("X-Forwarded-Uri", "/admin/x")
		req.Header.Set("X-Forwarded-Host", "kf.example")
		req.Header.Set("X-Request-Id", tc.id)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: status %d, want %d", tc.id, resp.StatusCode, tc.want)
		}
	}

	if got := counterValue(t, reg, "idgate_decisions_total", map[string]string{"result": "deny", "reason": "forbidden"}); got != 2 {
		t.Errorf(`idgate_decisions_total{result="deny",reason="forbidden"} = %v, want 2 (one per front end)`, got)
	}
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lines[m["decision_id"].(string)] = m
	}
	for _, id := range []string{"envoy-1", "fwd-1"} {
		l := lines[id]
		if l["msg"] != "decision" || l["route"] != "/admin" || l["reason"] != "forbidden" || l["path"] != "/admin/x" || l["host"] != "kf.example" {
			t.Errorf("%s: decision line %v", id, l)
		}
	}
	if l := lines["fwd-2"]; l["msg"] != "decision failed" || l["error"] != "boom" {
		t.Errorf("fault line %v", l)
	}
	if got := counterValue(t, reg, "idgate_check_errors_total", nil); got != 0 {
		t.Errorf("check_errors_total = %v: a forward-auth fault counted as a gRPC error", got)
	}
}

// counterValue is the value of the counter name's series with labels.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}
