package extauthz

import (
	"context"
	"io"
	"log/slog"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/proto"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/decidertest"
)

// benchResult is a typical warm allow: three identity headers, the strip
// list, a verified identity.
func benchResult() decision.Result {
	return decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "default",
		Identity: &identity.Identity{Issuer: "https://idp.example.com", Subject: "alice"},
		Set: []identity.Header{{Name: "kubeflow-userid", Value: "alice@example.com"},
			{Name: "kubeflow-groups", Value: "admins,ml"},
			{Name: "x-flyte-identity", Value: string(make([]byte, 520))}},
		Remove: []string{"x-amzn-oidc-data", "x-amzn-oidc-identity", "x-amzn-oidc-accesstoken", "x-forwarded-user",
			"x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username", "x-forwarded-access-token",
			"x-auth-request-user", "x-auth-request-email", "x-auth-request-groups",
			"x-auth-request-preferred-username", "x-auth-request-access-token"},
	}
}

// BenchmarkAllowedResponse builds and marshals an allow, as gRPC does.
func BenchmarkAllowedResponse(b *testing.B) {
	res := benchResult()
	c := newResponseCaches()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(allowed(c, &res)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserve is the decision log line (JSON, to io.Discard) and metrics.
func BenchmarkObserve(b *testing.B) {
	_, s := newServer(b, decidertest.Fixed{}, decisionlog.Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	res := benchResult()
	req := &decision.Request{ID: "b7c1f0e2"}
	ctx := context.Background()
	start := s.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(ctx, req, &res, start)
	}
}

// BenchmarkCheck is Translate, a fixed decision, Observe and the response.
func BenchmarkCheck(b *testing.B) {
	s, _ := newServer(b, decidertest.Fixed{Result: benchResult()}, decisionlog.Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	req := mustFixture(b, "envoy-check-request.json")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := s.Check(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := proto.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = authv3.CheckResponse{}
