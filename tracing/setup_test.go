package tracing

import (
	"context"
	"strings"
	"testing"
)

func TestEnabled(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    bool
		wantErr string
	}{
		{name: "nothing set", environ: nil, want: false},
		{name: "endpoint set", environ: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318"}, want: true},
		{name: "traces endpoint set", environ: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4318/v1/traces"}, want: true},
		{name: "exporter otlp", environ: []string{"OTEL_TRACES_EXPORTER=otlp"}, want: true},
		{name: "exporter none wins over endpoint", environ: []string{"OTEL_TRACES_EXPORTER=none", "OTEL_EXPORTER_OTLP_ENDPOINT=http://x"}, want: false},
		{name: "sdk disabled", environ: []string{"OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=otlp"}, want: false},
		{name: "last copy wins", environ: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_TRACES_EXPORTER=none"}, want: false},
		{name: "unsupported exporter", environ: []string{"OTEL_TRACES_EXPORTER=zipkin"}, wantErr: "unsupported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Enabled(tc.environ)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Enabled = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		wantNil bool
		wantErr string
	}{
		{name: "off", environ: nil, wantNil: true},
		{name: "http", environ: []string{"OTEL_TRACES_EXPORTER=otlp"}},
		{name: "grpc", environ: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"}},
		{name: "bad protocol", environ: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json"}, wantErr: "unsupported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromEnv(context.Background(), tc.environ)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (p == nil) != tc.wantNil {
				t.Fatalf("provider = %v, want nil %v", p, tc.wantNil)
			}
			if p != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2e9)
				defer cancel()
				_ = p.Shutdown(ctx) // nothing buffered: no export attempt
			}
		})
	}
}
