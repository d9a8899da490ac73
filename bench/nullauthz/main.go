// Command nullauthz is an Envoy ext_authz gRPC server that allows every
// request and does nothing else: the floor `idgate load` compares idgate
// against (same gRPC stack and server options, no decision). Benchmarks
// only; it never belongs in front of a real service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/app"
)

// ok is the default response, built once.
var ok = &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}}

type nullServer struct {
	authv3.UnimplementedAuthorizationServer
	resp *authv3.CheckResponse // built once, shared by every answer
}

// Check allows.
func (s nullServer) Check(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return s.resp, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		log.Fatalf("nullauthz: %v", err)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("nullauthz", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9101", "ext_authz gRPC listen address")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9102", "HTTP address of /metrics (process_cpu_seconds_total); empty disables")
	allowBytes := fs.Int("allow-bytes", 0, "answer with an idgate-shaped allow of this many bytes (see `idgate load --json` allow_bytes); 0: an empty allow")
	if err := fs.Parse(args); err != nil {
		return err
	}
	resp := ok
	if *allowBytes > 0 {
		var err error
		if resp, err = shapedAllow(*allowBytes); err != nil {
			return err
		}
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := grpc.NewServer(app.GRPCServerOptions()...)
	authv3.RegisterAuthorizationServer(srv, nullServer{resp: resp})
	if *metricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		hl, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(hl) }()
		defer hs.Close()
	}
	fmt.Fprintf(os.Stderr, "nullauthz: grpc %s metrics %s pid %d\n", lis.Addr(), *metricsAddr, os.Getpid())
	go func() { <-ctx.Done(); srv.Stop() }()
	return srv.Serve(lis)
}
