package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestTracing runs a Check over gRPC carrying a traceparent and finds
// idgate's spans in that trace: the Check span is the caller's child, and
// the Redis lookups of the enrichment are the Check's children. Key fetches
// and userinfo calls get their own spans.
func TestTracing(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	idp := mustIdP(t, devidp.Options{})
	rds := redistest.Start(t)
	cfg := loopbackConfig(idp)
	cfg.Redis.Addrs = []string{rds.Addr()}
	cfg.Redis.KeyFile = mustCacheKeyFile(t)
	cfg.Cache.LocalSize = 0
	a := mustStart(t, cfg, Options{TracerProvider: tp})
	mustReady(t, a)

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := warmRequest(t, idp)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req.Attributes.Request.Http.Headers["traceparent"] = "00-" + traceID + "-" + parentID + "-01"
	req.Attributes.Request.Http.Headers["tracestate"] = "vendor=opaque"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, req)
	if err != nil || resp.GetStatus().GetCode() != 0 {
		t.Fatalf("Check: %v %v", resp.GetStatus(), err)
	}

	var check sdktrace.ReadOnlySpan
	names := map[string]int{}
	for _, s := range rec.Ended() {
		names[s.Name()]++
		if s.Name() == "idgate.Check" {
			check = s
		}
	}
	if check == nil {
		t.Fatalf("no idgate.Check span; spans: %v", names)
	}
	if got := check.SpanContext().TraceID().String(); got != traceID {
		t.Errorf("Check span trace id = %s, want the traceparent's %s", got, traceID)
	}
	if got := check.Parent().SpanID().String(); got != parentID || !check.Parent().IsRemote() {
		t.Errorf("Check span parent = %s (remote %v), want %s", got, check.Parent().IsRemote(), parentID)
	}
	if ts := check.SpanContext().TraceState().Get("vendor"); ts != "opaque" {
		t.Errorf("tracestate not carried: %q", ts)
	}
	if check.SpanKind() != trace.SpanKindServer {
		t.Errorf("Check span kind = %v", check.SpanKind())
	}
	redisChild := false
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() == check.SpanContext().SpanID() && strings.HasPrefix(s.Name(), "redis ") {
			redisChild = true
		}
		for _, kv := range s.Attributes() {
			if v := kv.Value.Emit(); len(v) > 40 && v[:3] == "eyJ" {
				t.Errorf("span %s attribute %s holds a token", s.Name(), kv.Key)
			}
		}
	}
	if !redisChild {
		t.Errorf("no Redis span under the Check span; spans: %v", names)
	}
	for _, want := range []string{"jwks.fetch", "userinfo.fetch"} {
		if names[want] == 0 {
			t.Errorf("no %s span; spans: %v", want, names)
		}
	}
}

// TestNoTracingByDefault: without a TracerProvider the decider is the App
// itself, with no wrapper on the hot path.
func TestNoTracingByDefault(t *testing.T) {
	a, _ := mustOpenApp(t)
	if a.decider != a {
		t.Fatalf("decider = %T, want the App itself", a.decider)
	}
}

func mustReady(tb testing.TB, a *App) {
	tb.Helper()
	wait.For(tb, "readiness", a.Ready)
	resp, err := http.Get("http://" + a.HTTPAddr() + "/readyz")
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
}
