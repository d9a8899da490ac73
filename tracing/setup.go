package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of idgate's spans unless OTEL_SERVICE_NAME
// or OTEL_RESOURCE_ATTRIBUTES says otherwise.
const ServiceName = "idgate"

// Enabled reports whether environ asks for traces, following the
// OpenTelemetry SDK conventions:
//
//   - OTEL_SDK_DISABLED=true turns everything off;
//   - OTEL_TRACES_EXPORTER=otlp turns tracing on, none turns it off;
//   - unset, tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
//
// Any other exporter name is an error: idgate ships only the OTLP exporter.
func Enabled(environ []string) (bool, error) {
	env := lookup(environ)
	if strings.EqualFold(env("OTEL_SDK_DISABLED"), "true") {
		return false, nil
	}
	switch exp := strings.TrimSpace(env("OTEL_TRACES_EXPORTER")); exp {
	case "otlp":
		return true, nil
	case "none":
		return false, nil
	case "":
		return env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
	default:
		return false, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q: unsupported (otlp or none)", exp)
	}
}

// Provider is a tracer provider and the function that flushes and stops it.
type Provider struct {
	trace.TracerProvider
	// Shutdown flushes pending spans within ctx and stops the exporter.
	Shutdown func(ctx context.Context) error
}

// FromEnv returns the tracer provider environ asks for, or nil when tracing
// is off. The OTLP exporter is chosen by OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
// or OTEL_EXPORTER_OTLP_PROTOCOL (grpc, or http/protobuf: the default) and
// reads its endpoint, headers, timeout and TLS settings from the process
// environment itself; the sampler (OTEL_TRACES_SAMPLER, default
// parentbased_always_on) and resource (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES) are the SDK's. No connection is made here.
func FromEnv(ctx context.Context, environ []string) (*Provider, error) {
	on, err := Enabled(environ)
	if err != nil || !on {
		return nil, err
	}
	env := lookup(environ)
	proto := env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = env("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var exp sdktrace.SpanExporter
	switch proto {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	default:
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL=%q: unsupported (grpc or http/protobuf)", proto)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: exporter: %w", err)
	}
	return NewProvider(exp), nil
}

// NewProvider batches spans to exp (tests pass an in-memory exporter).
func NewProvider(exp sdktrace.SpanExporter) *Provider {
	// Attributes from the environment come last and so win.
	res, err := resource.New(context.Background(), resource.WithAttributes(semconv.ServiceName(ServiceName)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Provider{TracerProvider: tp, Shutdown: tp.Shutdown}
}

// lookup reads environ like os.Getenv, the last copy of a name winning.
func lookup(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OTEL_") {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}
