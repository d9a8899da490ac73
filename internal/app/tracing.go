package app

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/idgate/idgate/decision"
)

// tracerScope names the instrumentation scope of the Check span.
const tracerScope = "github.com/idgate/idgate/internal/app"

// tracedDecider records one server span per decision, continuing the W3C
// trace context (traceparent, tracestate) of the request Envoy asks about,
// so idgate's span sits inside the caller's trace. It records the route and
// the outcome, never a header value.
type tracedDecider struct {
	next   decision.Decider
	tracer trace.Tracer
	prop   propagation.TraceContext
}

func newTracedDecider(next decision.Decider, tp trace.TracerProvider) *tracedDecider {
	return &tracedDecider{next: next, tracer: tp.Tracer(tracerScope)}
}

// Decide implements decision.Decider.
func (t *tracedDecider) Decide(ctx context.Context, req *decision.Request) (decision.Result, error) {
	ctx = t.prop.Extract(ctx, headerCarrier(req.Headers))
	ctx, span := t.tracer.Start(ctx, "idgate.Check", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", req.Method)))
	defer span.End()
	res, err := t.next.Decide(ctx, req)
	if err != nil {
		span.SetStatus(codes.Error, "decision failed")
		return res, err
	}
	span.SetAttributes(
		attribute.Bool("idgate.allowed", res.Allowed),
		attribute.Int("idgate.status", res.Status),
		attribute.String("idgate.reason", res.Reason),
		attribute.String("idgate.route", res.Route),
	)
	if len(res.Spoofed) > 0 {
		span.SetAttributes(attribute.StringSlice("idgate.spoofed_headers", res.Spoofed))
	}
	return res, nil
}

// headerCarrier reads a CheckRequest's header map (lower-case names) for
// the propagator; it is never written to.
type headerCarrier map[string]string

func (h headerCarrier) Get(key string) string { return h[strings.ToLower(key)] }
func (h headerCarrier) Set(string, string)    {}
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}
