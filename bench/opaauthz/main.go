// Command opaauthz is a stand-in for OPA-Envoy (opa-envoy-plugin) built on
// OPA's Go library: an Envoy ext_authz v3 gRPC server that builds OPA's
// input from each CheckRequest as the plugin does and evaluates the
// canonical OPA-Envoy JWT policy (io.jwt.decode_verify against the IdP's
// JWKS) with a query prepared once. bench/run.sh measures idgate's cold
// Check against it side by side. Benchmarks only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		log.Fatalf("opaauthz: %v", err)
	}
}

// grpcServerOptions are idgate's (internal/app.GRPCServerOptions, also
// bench/nullauthz's), so the three servers differ only in their Check.
// This module cannot import idgate's internal packages without idgate's
// dependencies; keep the two lists the same.
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.MaxRecvMsgSize(4 << 20),
		grpc.MaxConcurrentStreams(1024),
		grpc.NumStreamWorkers(32),
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(1 << 20),
	}
}

// run serves until ctx ends; its first line on logw names the listening
// addresses.
func run(ctx context.Context, args []string, logw io.Writer) error {
	fs := flag.NewFlagSet("opaauthz", flag.ContinueOnError)
	fs.SetOutput(logw)
	addr := fs.String("addr", "127.0.0.1:9101", "ext_authz gRPC listen address")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9102", "HTTP address of /metrics (process_cpu_seconds_total); empty disables")
	jwksURL := fs.String("jwks-url", "", "the IdP's JWKS URL (required); fetched until it answers, then never again")
	issuer := fs.String("issuer", "", "the iss tokens must carry (required)")
	audience := fs.String("audience", "", "an aud tokens must carry (required)")
	timeout := fs.Duration("jwks-timeout", 5*time.Second, "deadline of each JWKS fetch")
	wait := fs.Duration("jwks-wait", time.Minute, "how long to keep trying to fetch the JWKS; Checks fail with Unavailable until then")
	jwksAlg := fs.String("jwks-alg", "", "keep only the JWKS keys of this alg (e.g. RS256); empty keeps all")
	keyCache := fs.Bool("key-cache", false, "give the evaluation OPA's inter-query value cache (parsed JWKS kept); opa-envoy-plugin passes none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *jwksURL == "" || *issuer == "" || *audience == "":
		return errors.New("--jwks-url, --issuer and --audience are required")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := NewServer(ctx, *keyCache)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := grpc.NewServer(grpcServerOptions()...)
	authv3.RegisterAuthorizationServer(srv, s)
	metricsAt, closeMetrics, err := serveMetrics(*metricsAddr)
	if err != nil {
		lis.Close()
		return err
	}
	defer closeMetrics()
	fmt.Fprintf(logw, "opaauthz: grpc %s metrics %s pid %d\n", lis.Addr(), metricsAt, os.Getpid())
	loadErr := make(chan error, 1)
	go func() {
		err := loadWhenReachable(ctx, s, &http.Client{}, *jwksURL, *jwksAlg,
			Policy{Issuer: *issuer, Audience: *audience}, *timeout, *wait, 250*time.Millisecond)
		switch {
		case err == nil:
			fmt.Fprintf(logw, "opaauthz: policy loaded (JWKS from %s)\n", *jwksURL)
		case ctx.Err() == nil: // not a shutdown
			loadErr <- err
		}
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err = <-loadErr:
	case <-ctx.Done():
	case err = <-served:
		return err
	}
	srv.Stop()
	<-served
	return err
}

// serveMetrics serves the process collector's /metrics on addr (nothing
// when addr is empty) and returns the address it listens on.
func serveMetrics(addr string) (string, func(), error) {
	if addr == "" {
		return "", func() {}, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hl, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(hl) }()
	return hl.Addr().String(), func() { hs.Close() }, nil
}
