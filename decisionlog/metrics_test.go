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

// TestCachedCountersCountTheirLabel: the cached children of the one-label
// vectors (spoofed headers, degraded reasons, shadow mismatches,
// forwarders) each count under their own label, first use and later, and
// past the cache's bound too.
func TestCachedCountersCountTheirLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := mustRecorder(t, Config{Registerer: reg})
	id := func(degraded string) *identity.Identity {
		return &identity.Identity{Issuer: "https://idp", Subject: "s", Degraded: degraded}
	}
	results := []decision.Result{
		{Allowed: true, Spoofed: []string{"kubeflow-userid", "x-forwarded-user"}, Identity: id("userinfo_timeout"), Forwarder: "spiffe://a"},
		{Allowed: true, Spoofed: []string{"kubeflow-userid"}, Identity: id("userinfo_error"), Forwarder: "spiffe://b"},
		{Allowed: true, Shadow: true, Mismatches: []string{"kubeflow-groups", "kubeflow-userid"}, Identity: id("userinfo_timeout")},
		{Allowed: true, Shadow: true, Mismatches: []string{"kubeflow-groups"}, Forwarder: "spiffe://a"},
	}
	for range 3 {
		for i := range results {
			r.Observe(context.Background(), &decision.Request{ID: "r"}, &results[i], r.Now())
		}
	}
	for n := range maxCachedCounters + 10 { // past the bound: the vector counts
		r.Observe(context.Background(), &decision.Request{ID: "r"}, &decision.Result{Allowed: true, Spoofed: []string{fmt.Sprintf("x-h-%d", n)}}, r.Now())
	}
	tests := []struct {
		metric, label, value string
		want                 float64
	}{
		{"idgate_spoof_attempts_total", "header", "kubeflow-userid", 6},
		{"idgate_spoof_attempts_total", "header", "x-forwarded-user", 3},
		{"idgate_spoof_attempts_total", "header", "x-h-0", 1},
		{"idgate_spoof_attempts_total", "header", fmt.Sprintf("x-h-%d", maxCachedCounters+9), 1},
		{"idgate_enrichment_degraded_total", "reason", "userinfo_timeout", 6},
		{"idgate_enrichment_degraded_total", "reason", "userinfo_error", 3},
		{"idgate_shadow_mismatches_total", "header", "kubeflow-groups", 6},
		{"idgate_shadow_mismatches_total", "header", "kubeflow-userid", 3},
		{"idgate_forwarded_total", "principal", "spiffe://a", 6},
		{"idgate_forwarded_total", "principal", "spiffe://b", 3},
	}
	for _, tc := range tests {
		t.Run(tc.metric+"/"+tc.value, func(t *testing.T) {
			if got := promtest.Value(t, reg, tc.metric, tc.label, tc.value); got != tc.want {
				t.Fatalf("%s{%s=%q} = %v, want %v", tc.metric, tc.label, tc.value, got, tc.want)
			}
		})
	}
	if got := promtest.Value(t, reg, "idgate_spoof_attempts_total"); got != 9+maxCachedCounters+10 {
		t.Fatalf("spoof_attempts_total sums to %v, want %v", got, 9+maxCachedCounters+10)
	}
}
