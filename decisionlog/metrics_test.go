package decisionlog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/promtest"
)

func TestObserveReportsWithoutValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	s, err := New(Config{Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	res := decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Spoofed: []string{"kubeflow-userid"},
		Identity: &identity.Identity{Issuer: "https://idp", Subject: "s", GroupsOverage: true, Degraded: "userinfo_timeout"}}
	s.Observe(context.Background(), &decision.Request{ID: "r1", Headers: map[string]string{"kubeflow-userid": "root-SECRET"}}, &res, time.Now())
	for name, want := range map[string]float64{
		"idgate_groups_overage_total": 1, "idgate_spoof_attempts_total": 1,
		"idgate_enrichment_degraded_total": 1, "idgate_decisions_total": 1,
	} {
		if got := promtest.Value(t, reg, name); got != want {
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

// TestPresetExportsZeroSeries: every known label set is exported at zero
// from the start, so alerts need no `or vector(0)`.
func TestPresetExportsZeroSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Config{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.Preset(Labels{DenyReasons: []string{"expired"}, DegradedReasons: []string{"userinfo_timeout"}, SpoofHeaders: []string{"kubeflow-userid"}})
	want := `
idgate_decisions_total{reason="bad_request",result="deny"} 0
idgate_decisions_total{reason="expired",result="deny"} 0
idgate_decisions_total{reason="ok",result="allow"} 0
idgate_decisions_total{reason="public",result="allow"} 0
idgate_enrichment_degraded_total{reason="userinfo_timeout"} 0
idgate_spoof_attempts_total{header="kubeflow-userid"} 0
idgate_check_errors_total 0
idgate_groups_overage_total 0
`
	var got strings.Builder
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if c := m.GetCounter(); c != nil {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				lbl := ""
				if len(labels) > 0 {
					lbl = "{" + strings.Join(labels, ",") + "}"
				}
				fmt.Fprintf(&got, "%s%s %v\n", f.GetName(), lbl, c.GetValue())
			}
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
		if !strings.Contains(got.String(), line+"\n") {
			t.Errorf("missing %s in\n%s", line, got.String())
		}
	}
}
