package tracing

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestClientRecordsNoSecrets: a userinfo-like call with a token in the
// Authorization header and a query records method, host, path and status,
// never the header or the query.
func TestClientRecordsNoSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := Client(srv.Client(), tp, "userinfo.fetch")
	for _, path := range []string{"/userinfo?secret=q1", "/fail"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer tok-123")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for _, s := range spans {
		if s.Name() != "userinfo.fetch" {
			t.Errorf("span name %q", s.Name())
		}
		for _, kv := range s.Attributes() {
			if v := kv.Value.Emit(); strings.Contains(v, "tok-123") || strings.Contains(v, "q1") {
				t.Errorf("attribute %s = %q leaks a secret", kv.Key, v)
			}
		}
	}
	if spans[1].Status().Code != codes.Error {
		t.Errorf("a 503 is not marked as an error: %v", spans[1].Status())
	}
}
