package extauthz

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range fams {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func TestObserveReportsWithoutValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	s, err := New(Config{Decider: fixedDecider{}, Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	res := decision.Result{Allowed: true, Status: 200, Reason: "ok", Spoofed: []string{"kubeflow-userid"},
		Identity: &identity.Identity{Issuer: "https://idp", Subject: "s", GroupsOverage: true, Degraded: "userinfo_timeout"}}
	s.Observe(context.Background(), &decision.Request{ID: "r1", Headers: map[string]string{"kubeflow-userid": "root-SECRET"}}, &res, time.Now())
	for name, want := range map[string]float64{
		"idgate_groups_overage_total": 1, "idgate_spoof_attempts_total": 1,
		"idgate_enrichment_degraded_total": 1, "idgate_decisions_total": 1,
	} {
		if got := counter(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	line := logs.String()
	for _, want := range []string{`"groups_overage":true`, `"spoofed_headers":["kubeflow-userid"]`, `"decision_id":"r1"`, `"degraded":"userinfo_timeout"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "SECRET") {
		t.Fatalf("a header value reached the log: %s", line)
	}
}
