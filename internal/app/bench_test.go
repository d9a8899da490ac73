package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/extauthz"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// mustOpenApp starts idgate against a fresh development IdP on loopback,
// with userinfo off, and waits for its keys.
func mustOpenApp(tb testing.TB) (*App, *devidp.Provider) {
	tb.Helper()
	return mustOpenAppWith(tb, func(c *config.Config) {
		f := false
		c.Issuers[0].Userinfo = &f
	})
}

// mustOpenAppWith is mustOpenApp with the configuration edited first.
func mustOpenAppWith(tb testing.TB, edit func(*config.Config)) (*App, *devidp.Provider) {
	tb.Helper()
	idp := mustIdP(tb, devidp.Options{})
	cfg := loopbackConfig(idp)
	edit(cfg)
	a := mustStart(tb, cfg, Options{ReloadTimeout: time.Second})
	wait.For(tb, "readiness", a.Ready)
	return a, idp
}

func warmRequest(tb testing.TB, idp *devidp.Provider) *authv3.CheckRequest {
	tb.Helper()
	tok, err := idp.Mint(map[string]any{"sub": "alice", "aud": "kubeflow", "email": "alice@example.com",
		"groups": []string{"admins", "ml"}}, devidp.MintOptions{Alg: "RS256"})
	if err != nil {
		tb.Fatal(err)
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Host: "runs", Path: "/api/v1/runs", Headers: map[string]string{
			":authority": "runs", ":method": "GET", ":path": "/api/v1/runs", "authorization": "Bearer " + tok,
			"user-agent": "flytekit", "accept": "application/json", "x-request-id": "b7c1f0e2",
		}},
	}}}
}

// BenchmarkCheckWarm is a Check for a token seen before, in-process: the
// cost idgate adds on top of gRPC.
func BenchmarkCheckWarm(b *testing.B) {
	a, idp := mustOpenApp(b)
	req := warmRequest(b, idp)
	ctx := context.Background()
	if _, err := a.authz.Check(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := a.authz.Check(ctx, req)
		if err != nil || resp.GetStatus().GetCode() != 0 {
			b.Fatal(err, resp.GetStatus())
		}
	}
}

// BenchmarkCheckWarmGRPC is the same over a real loopback gRPC connection.
func BenchmarkCheckWarmGRPC(b *testing.B) {
	a, idp := mustOpenApp(b)
	req := warmRequest(b, idp)
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	c := authv3.NewAuthorizationClient(conn)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Check(ctx, req)
		if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
			b.Fatal(err, resp.GetStatus())
		}
	}
}

func TestReadinessAndShutdown(t *testing.T) {
	a, _ := mustOpenApp(t)
	if !a.Ready() {
		t.Fatal("not ready")
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.Ready() {
		t.Fatal("ready after shutdown")
	}
}

// BenchmarkDecideWarmReal is the decision alone (no gRPC, no protobuf) with
// the real components: a cached token, real header rendering and stripping.
func BenchmarkDecideWarmReal(b *testing.B) {
	a, idp := mustOpenApp(b)
	req, _ := extauthz.Translate(warmRequest(b, idp))
	ctx := context.Background()
	if _, err := a.Decide(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := a.Decide(ctx, req)
		if err != nil || !res.Allowed {
			b.Fatal(err, res.Reason)
		}
	}
}

// mustOpenAppRedis is mustOpenApp with userinfo enrichment and the profile
// cache in a real Redis; localSize 0 disables the in-process layer so every
// Check reads Redis.
func mustOpenAppRedis(tb testing.TB, localSize int) (*App, *devidp.Provider) {
	tb.Helper()
	rds := redistest.Start(tb)
	a, idp := mustOpenAppWith(tb, func(c *config.Config) {
		c.Redis.Addrs = []string{rds.Addr()}
		c.Redis.KeyFile = mustCacheKeyFile(tb)
		c.Cache.LocalSize = localSize
	})
	idp.SetUserinfo("bob", map[string]any{"email": "bob@example.com", "name": "Bob", "groups": []string{"ml"}})
	return a, idp
}

func benchmarkCheckRedis(b *testing.B, localSize int) {
	a, idp := mustOpenAppRedis(b, localSize)
	tok, err := idp.Mint(map[string]any{"sub": "bob", "aud": "kubeflow"}, devidp.MintOptions{}) // sub only: enrichment every Check
	if err != nil {
		b.Fatal(err)
	}
	req := warmRequest(b, idp)
	req.Attributes.Request.Http.Headers["authorization"] = "Bearer " + tok
	ctx := context.Background()
	if resp, err := a.authz.Check(ctx, req); err != nil || resp.GetOkResponse() == nil {
		b.Fatal(err, resp)
	}
	calls := idp.UserinfoCalls()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := a.authz.Check(ctx, req)
		if err != nil || resp.GetStatus().GetCode() != 0 {
			b.Fatal(err, resp.GetStatus())
		}
	}
	b.StopTimer()
	if n := idp.UserinfoCalls() - calls; n != 0 {
		b.Fatalf("%d userinfo calls in a warm steady state", n)
	}
}

// BenchmarkCheckWarmRedis: Redis configured, the profile in the local LRU.
func BenchmarkCheckWarmRedis(b *testing.B) { benchmarkCheckRedis(b, 10000) }

// BenchmarkCheckLocalMissRedisHit: every Check reads the profile from Redis.
func BenchmarkCheckLocalMissRedisHit(b *testing.B) { benchmarkCheckRedis(b, 0) }

// mustCacheKeyFile writes a test key for redis.key_file.
func mustCacheKeyFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "cache-key")
	if err := os.WriteFile(path, []byte("internal/app test key, 32+ bytes, never real\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
