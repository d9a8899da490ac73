package extauthz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/promtest"
)

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

// blockingDecider holds each Decide until release closes.
type blockingDecider struct {
	entered chan struct{}
	release chan struct{}
	res     decision.Result
	err     error
}

func (b blockingDecider) Decide(context.Context, *decision.Request) (decision.Result, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.res, b.err
}

// TestCheckLatencyByResultAndInFlight: the duration histogram is labelled
// allowed, denied or error, and checks_in_flight counts Checks being
// decided.
func TestCheckLatencyByResultAndInFlight(t *testing.T) {
	tests := []struct {
		name   string
		res    decision.Result
		err    error
		result string
	}{
		{"allowed", decision.Result{Allowed: true, Status: 200, Reason: "ok"}, nil, "allowed"},
		{"denied", decision.Result{Status: 401, Reason: "missing_token"}, nil, "denied"},
		{"shadow would deny", decision.Result{Allowed: true, Shadow: true, Status: 200, Reason: "missing_token"}, nil, "denied"},
		{"error", decision.Result{}, errors.New("boom"), "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			d := blockingDecider{entered: make(chan struct{}), release: make(chan struct{}), res: tc.res, err: tc.err}
			s, err := New(Config{Decider: d, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			req := mustFixture(t, "envoy-check-request.json")
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = s.Check(context.Background(), req)
			}()
			<-d.entered
			if got := testutil.ToFloat64(s.metrics.inFlight); got != 1 {
				t.Errorf("checks_in_flight during a Check = %v, want 1", got)
			}
			close(d.release)
			<-done
			if got := testutil.ToFloat64(s.metrics.inFlight); got != 0 {
				t.Errorf("checks_in_flight after = %v, want 0", got)
			}
			for _, r := range []string{"allowed", "denied", "error"} {
				want := 0.0
				if r == tc.result {
					want = 1
				}
				if got := promtest.Value(t, reg, "idgate_check_duration_seconds", "result", r); got != want {
					t.Errorf("check_duration_seconds{result=%q} count = %v, want %v", r, got, want)
				}
			}
		})
	}
}

// TestPresetExportsZeroSeries: every known label set is exported at zero
// from the start, so alerts need no `or vector(0)`.
func TestPresetExportsZeroSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Config{Decider: fixedDecider{}, Registerer: reg})
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
