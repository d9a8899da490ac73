package decision

import (
	"context"
	"testing"
)

// TestPublicDecisionAllocatesNothing: a public route's decision (health
// checks, static assets: the busiest routes) shares the precomputed
// removal list rather than copying it per request.
func TestPublicDecisionAllocatesNothing(t *testing.T) {
	e := mustEngine(t, []Route{{PathPrefix: "/healthz", Public: true}})
	req := &Request{Method: "GET", Host: "h", Path: "/healthz", Headers: map[string]string{"accept": "*/*", "user-agent": "kube-probe"}}
	ctx := context.Background()
	res, err := e.Decide(ctx, req)
	if err != nil || !res.Allowed || res.Reason != "public" || !contains(res.Remove, "kubeflow-userid") {
		t.Fatalf("Decide = %+v, %v; want a public allow stripping kubeflow-userid", res, err)
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = e.Decide(ctx, req) }); a != 0 {
		t.Fatalf("a public decision allocates %v times", a)
	}
}
