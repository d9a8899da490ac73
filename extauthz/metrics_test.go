package extauthz

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/internal/testkit/promtest"
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
		{"allowed", decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}}, nil, "allowed"},
		{"denied", decision.Result{Reply: decision.Reply{Status: 401, Reason: "missing_token"}}, nil, "denied"},
		{"shadow would deny", decision.Result{Allowed: true, Shadow: true, Reply: decision.Reply{Status: 200, Reason: "missing_token"}}, nil, "denied"},
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
			if got := promtest.Value(t, reg, "idgate_checks_in_flight"); got != 1 {
				t.Errorf("checks_in_flight during a Check = %v, want 1", got)
			}
			close(d.release)
			<-done
			if got := promtest.Value(t, reg, "idgate_checks_in_flight"); got != 0 {
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
