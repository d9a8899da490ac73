package verify_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/verify"
)

// upstream is a verifier for tokens of k served by a JWKS server, and a
// valid token.
func upstream(t *testing.T) (*verify.Verifier, string) {
	t.Helper()
	clk := testclock.New(time.Now().Truncate(time.Second))
	k := mustKey(t)
	srv := newJWKSServer(t, k.JWKS())
	return mustVerifier(t, srv.URL, clk, nil), tokenAt(t, k, clk.Now())
}

// TestMiddleware: only a request with exactly one valid copy of the header
// reaches the handler, with its claims; others get 401 without the token.
func TestMiddleware(t *testing.T) {
	v, tok := upstream(t)
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := verify.ClaimsFromContext(r.Context())
		if !ok {
			t.Error("handler without claims")
			return
		}
		io.WriteString(w, "hello "+c.Subject)
	})))
	defer srv.Close()
	tests := []struct {
		name       string
		headers    [][2]string // sent as written, in this order
		wantStatus int
	}{
		{"one copy", [][2]string{{"X-Flyte-Identity", tok}}, 200},
		{"one copy in lower case", [][2]string{{"x-flyte-identity", tok}}, 200},
		{"missing", nil, 401},
		{"empty", [][2]string{{"X-Flyte-Identity", ""}}, 401},
		{"two copies of the valid token", [][2]string{{"X-Flyte-Identity", tok}, {"X-Flyte-Identity", tok}}, 401},
		{"two spellings", [][2]string{{"x-flyte-identity", tok}, {"X-FLYTE-IDENTITY", tok}}, 401},
		{"valid then junk", [][2]string{{"X-Flyte-Identity", tok}, {"X-Flyte-Identity", "junk"}}, 401},
		{"comma-joined", [][2]string{{"X-Flyte-Identity", tok + "," + tok}}, 401},
		{"underscore spelling only", [][2]string{{"x_flyte_identity", tok}}, 401},
		{"tampered", [][2]string{{"X-Flyte-Identity", tok[:len(tok)-4] + "AAAA"}}, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawGet(t, srv.Listener.Addr().String(), tc.headers)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
			}
			if status == 200 && body != "hello alice" {
				t.Fatalf("body %q", body)
			}
			if status != 200 && (strings.Contains(body, tok[:20]) || strings.Contains(body, "verify")) {
				t.Fatalf("401 body says too much: %q", body)
			}
		})
	}
}

// rawGet writes a GET with headers byte for byte (net/http would fold the
// spellings) and returns the status and body.
func rawGet(t *testing.T, addr string, headers [][2]string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	b.WriteString("GET /runs HTTP/1.1\r\nHost: runs\r\nConnection: close\r\n")
	for _, h := range headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestGRPCInterceptors: the unary and stream interceptors admit a call with
// exactly one valid identity value, with its claims, and refuse others with
// Unauthenticated and a message without the token.
func TestGRPCInterceptors(t *testing.T) {
	v, tok := upstream(t)
	seen := make(chan string, 16)
	record := func(ctx context.Context) {
		if c, ok := verify.ClaimsFromContext(ctx); ok {
			seen <- c.Subject
		}
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor(), func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			record(ctx)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(v.StreamServerInterceptor(), func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			record(ss.Context())
			return h(srv, ss)
		}))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	tests := []struct {
		name string
		md   []string // key, value pairs
		want codes.Code
	}{
		{"one value", []string{"x-flyte-identity", tok}, codes.OK},
		{"missing", nil, codes.Unauthenticated},
		{"two values", []string{"x-flyte-identity", tok, "x-flyte-identity", tok}, codes.Unauthenticated},
		{"tampered", []string{"x-flyte-identity", tok[:len(tok)-4] + "AAAA"}, codes.Unauthenticated},
		{"another header", []string{"authorization", tok}, codes.Unauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ctx = metadata.AppendToOutgoingContext(ctx, tc.md...)
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			assertCode(t, "unary", err, tc.want, tok, seen)
			stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
			if err == nil {
				_, err = stream.Recv()
			}
			assertCode(t, "stream", err, tc.want, tok, seen)
		})
	}
}

func assertCode(t *testing.T, kind string, err error, want codes.Code, tok string, seen chan string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != want {
		t.Fatalf("%s: code %v (%v), want %v", kind, st.Code(), err, want)
	}
	if strings.Contains(st.Message(), tok[:20]) {
		t.Fatalf("%s: message carries the token", kind)
	}
	if want != codes.OK {
		return
	}
	select {
	case sub := <-seen:
		if sub != "alice" {
			t.Fatalf("%s: handler saw subject %q", kind, sub)
		}
	default:
		t.Fatalf("%s: handler context without claims", kind)
	}
}
