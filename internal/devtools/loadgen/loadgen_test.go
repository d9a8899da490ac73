package loadgen

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/idgate/idgate/internal/testkit/testlog"
)

// fakeAuthz allows requests with an authorization header, denies the
// others, and fails those whose token is "fail".
type fakeAuthz struct {
	authv3.UnimplementedAuthorizationServer
	calls atomic.Int64
}

func (f *fakeAuthz) Check(_ context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	f.calls.Add(1)
	switch req.GetAttributes().GetRequest().GetHttp().GetHeaders()["authorization"] {
	case "":
		return &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.Unauthenticated)}}, nil
	case "Bearer fail":
		return nil, grpcstatus.Error(codes.Internal, "boom")
	}
	return &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}}, nil
}

// mustServe starts the fake on a loopback port until the test ends.
func mustServe(tb testing.TB) (*fakeAuthz, string) {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer()
	f := &fakeAuthz{}
	authv3.RegisterAuthorizationServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(srv.Stop)
	return f, lis.Addr().String()
}

func mustRun(tb testing.TB, cfg Config) Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func checks(tokens ...string) []*authv3.CheckRequest {
	out := make([]*authv3.CheckRequest, len(tokens))
	for i, t := range tokens {
		out[i] = NewCheckRequest(Target{Path: "/api"}, t, i)
	}
	return out
}

func TestRunStopsAtRequestCount(t *testing.T) {
	tests := []struct {
		name               string
		concurrency, conns int
		requests           int64
		tokens             []string
		allowed, denied    int64
		errors             int64
	}{
		{"one worker", 1, 1, 10, []string{"a"}, 10, 0, 0},
		{"more workers than requests", 8, 2, 5, []string{"a"}, 5, 0, 0},
		{"cycled tokens", 4, 2, 99, []string{"a", "", "fail"}, 33, 33, 33},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, addr := mustServe(t)
			res := mustRun(t, Config{Addr: addr, Checks: checks(tc.tokens...), Concurrency: tc.concurrency,
				Conns: tc.conns, Requests: tc.requests})
			if res.Requests != tc.requests || f.calls.Load() != tc.requests {
				t.Fatalf("requests = %d, server saw %d, want %d", res.Requests, f.calls.Load(), tc.requests)
			}
			if res.Allowed != tc.allowed || res.Denied != tc.denied || res.Errors != tc.errors {
				t.Fatalf("allowed/denied/errors = %d/%d/%d", res.Allowed, res.Denied, res.Errors)
			}
			if tc.errors > 0 && !strings.Contains(res.FirstError, "boom") {
				t.Fatalf("first error = %q", res.FirstError)
			}
			if res.Latency.Count() != uint64(tc.requests) || res.Latency.Max() <= 0 || res.RPS() <= 0 {
				t.Fatalf("latency count %d max %v rps %v", res.Latency.Count(), res.Latency.Max(), res.RPS())
			}
		})
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	f, addr := mustServe(t)
	var progress syncBuffer
	res := mustRun(t, Config{Addr: addr, Checks: checks("a"), Concurrency: 2, Duration: 300 * time.Millisecond,
		Progress: &progress, ProgressEvery: 50 * time.Millisecond})
	if res.Requests == 0 || res.Requests != f.calls.Load() || res.Requests != res.Allowed {
		t.Fatalf("requests = %d allowed %d, server saw %d", res.Requests, res.Allowed, f.calls.Load())
	}
	if !strings.Contains(progress.String(), "req/s") {
		t.Fatalf("no progress line: %q", progress.String())
	}
}

func TestRunMeasuresServerCPU(t *testing.T) {
	_, addr := mustServe(t)
	var reads atomic.Int64
	cpu := func(context.Context) (time.Duration, error) {
		return time.Duration(reads.Add(1)) * time.Second, nil // 1s before, 2s after
	}
	res := mustRun(t, Config{Addr: addr, Checks: checks("a"), Requests: 100, CPU: cpu})
	if !res.CPUMeasured || res.ServerCPU != time.Second || res.CPUPerCheck() != 10*time.Millisecond {
		t.Fatalf("cpu = %v (%v), per check %v", res.ServerCPU, res.CPUMeasured, res.CPUPerCheck())
	}
}

func TestRunRefuses(t *testing.T) {
	_, addr := mustServe(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no addr", Config{Checks: checks("a"), Requests: 1}},
		{"no checks", Config{Addr: addr, Requests: 1}},
		{"unbounded", Config{Addr: addr, Checks: checks("a")}},
		{"cpu reader fails", Config{Addr: addr, Checks: checks("a"), Requests: 1,
			CPU: func(context.Context) (time.Duration, error) { return 0, errors.New("no") }}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tc.cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestMetricsCPU(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\n" +
			"process_cpu_seconds_total_other 9\nprocess_cpu_seconds_total 12.34\ngo_goroutines 7\n"))
	}))
	defer srv.Close()
	got, err := MetricsCPU(srv.Client(), srv.URL)(context.Background())
	if err != nil || got != 12340*time.Millisecond {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := MetricsCPU(nil, srv.URL+"/x\x00")(context.Background()); err == nil {
		t.Fatal("bad url accepted")
	}
}

func TestParseProcessCPU(t *testing.T) {
	tests := []struct {
		name, text string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "process_cpu_seconds_total 1.5\n", 1500 * time.Millisecond, false},
		{"exponent", "process_cpu_seconds_total 2e+00\n", 2 * time.Second, false},
		{"missing", "go_goroutines 3\n", 0, true},
		{"garbage", "process_cpu_seconds_total x\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcessCPU(strings.NewReader(tc.text))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"spaces in comm", "42 (my idgate) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1 2 3", 3 * time.Second, false},
		{"parenthesis in comm", "7 (a) b) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"short", "7 (a) R 1 2", 0, true},
		{"no comm", "7 a R", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat(tc.stat)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
	if _, err := ProcCPU(os.Getpid())(context.Background()); err != nil {
		t.Fatalf("own /proc stat: %v", err)
	}
}

// syncBuffer collects concurrent writes.
type syncBuffer = testlog.Buffer

// TestRunFailFast: a run whose first FailFast Checks all fail stops there
// and says why; denials count only with ExpectAllow; one success keeps the
// run going.
func TestRunFailFast(t *testing.T) {
	tests := []struct {
		name        string
		tokens      []string
		expectAllow bool
		stops       bool
		want        string
	}{
		{"errors", []string{"fail"}, false, true, "error Internal=20"},
		{"denials expected to be allowed", []string{""}, true, true, "deny status_0=20"},
		{"denials on the deny path", []string{""}, false, false, ""},
		{"some allowed", []string{"a", "fail"}, true, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := mustServe(t)
			res := mustRun(t, Config{Addr: addr, Checks: checks(tc.tokens...), Concurrency: 1,
				Requests: 200, FailFast: 20, ExpectAllow: tc.expectAllow})
			if stopped := res.StoppedEarly != ""; stopped != tc.stops {
				t.Fatalf("stopped early = %q, want stop %v", res.StoppedEarly, tc.stops)
			}
			if tc.stops && (res.Requests != 20 || !strings.Contains(res.StoppedEarly, "the first 20 Checks all failed: "+tc.want)) {
				t.Fatalf("requests %d, stopped %q", res.Requests, res.StoppedEarly)
			}
			if !tc.stops && res.Requests != 200 {
				t.Fatalf("requests %d, want 200", res.Requests)
			}
		})
	}
}

// TestRunReportsAllowBytes: the size of an allow response is measured, so
// a do-nothing server can be made to answer with as many bytes.
func TestRunReportsAllowBytes(t *testing.T) {
	_, addr := mustServe(t)
	res := mustRun(t, Config{Addr: addr, Checks: checks("a"), Concurrency: 2, Requests: 10})
	want := proto.Size(&authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}})
	if res.AllowBytes != want {
		t.Fatalf("allow bytes %d, want %d", res.AllowBytes, want)
	}
}
