package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestDevCommand runs `idgate dev` as a newcomer would and follows the
// printed instructions: the sample token gets a real decision, with the
// profile enriched from the development IdP's userinfo.
func TestDevCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, nil, out, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("dev: %v", err)
		}
	}()
	addrRE := regexp.MustCompile(`ext_authz gRPC: (\S+)`)
	var banner string
	wait.For(t, "the banner", func() bool {
		banner = out.String()
		return strings.Contains(banner, "Try it:")
	})
	addr := addrRE.FindStringSubmatch(banner)[1]
	lines := strings.Split(banner, "\n")
	var tok string
	for i, l := range lines {
		if strings.HasPrefix(l, "A sample token") {
			tok = strings.TrimSpace(lines[i+1])
		}
	}
	var res bytes.Buffer
	if err := run(ctx, []string{"check", "--addr", addr, "--path", "/api/v1/runs", "-H", "authorization: Bearer " + tok}, nil, &res, io.Discard); err != nil {
		t.Fatalf("check with the sample token: %v\n%s", err, res.String())
	}
	for _, want := range []string{"set: kubeflow-userid: dev@example.com", "set: kubeflow-groups: admins,developers"} {
		if !strings.Contains(res.String(), want) {
			t.Errorf("decision lacks %q:\n%s", want, res.String())
		}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The health service follows readiness within its 200ms poll.
	wait.Within(t, 5*time.Second, "gRPC health SERVING", func() bool {
		h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "envoy.service.auth.v3.Authorization"})
		return err == nil && h.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})
}
