package extauthz

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
)

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
			s, _ := newServer(t, d, decisionlog.Config{Registerer: reg})
			req := mustFixture(t, "envoy-check-request.json")
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = s.Check(context.Background(), req)
			}()
			<-d.entered
			if got := gauge(t, reg, "idgate_checks_in_flight"); got != 1 {
				t.Errorf("checks_in_flight during a Check = %v, want 1", got)
			}
			close(d.release)
			<-done
			if got := gauge(t, reg, "idgate_checks_in_flight"); got != 0 {
				t.Errorf("checks_in_flight after = %v, want 0", got)
			}
			for _, r := range []string{"allowed", "denied", "error"} {
				want := uint64(0)
				if r == tc.result {
					want = 1
				}
				if got := histogramCount(t, reg, "idgate_check_duration_seconds", r); got != want {
					t.Errorf("check_duration_seconds{result=%q} count = %d, want %d", r, got, want)
				}
			}
		})
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name, result string) uint64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if f.GetName() == name && len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == result {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	t.Fatalf("no %s{result=%q}", name, result)
	return 0
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// counter sums the series of the counter name.
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
