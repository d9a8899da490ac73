package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/extauthz"
	"github.com/idgate/idgate/forwardauth"
)

// Options are the dependencies a test or `idgate dev` may replace.
type Options struct {
	// Logger receives the decision log and start-up messages.
	Logger *slog.Logger
	// HTTPClient is used for JWKS, discovery and userinfo; nil builds one
	// with timeouts.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReloadTimeout bounds how long a reload waits for the new issuers'
	// keys; zero means 10s.
	ReloadTimeout time.Duration
	// TracerProvider, when not nil, receives a span per Check (continuing
	// the request's traceparent), per issuer and userinfo HTTP call and per
	// Redis command. Nil means no tracing and no tracing cost.
	TracerProvider trace.TracerProvider
}

// App is a configured idgate. The listeners, gRPC server and decision
// metrics live as long as the process; everything built from the reloadable
// configuration is in the current stack, swapped atomically by Reload.
type App struct {
	cfg      *config.Config // the configuration the listeners came from
	opts     Options
	log      *slog.Logger
	reg      *prometheus.Registry
	pm       *processMetrics
	now      func() time.Time
	rec      *decisionlog.Recorder // the one decision recorder of both front ends
	authz    *extauthz.Server
	forward  *forwardauth.Handler
	decider  decision.Decider // a, or a wrapped in a Check span
	cur      atomic.Pointer[stack]
	reloadMu sync.Mutex
	bg       context.Context // lives until Shutdown; stacks load keys on it

	grpcSrv *grpc.Server
	httpSrv *http.Server
	health  *health.Server
	grpcLis net.Listener
	httpLis net.Listener
	// metricsSrv and metricsLis serve /metrics alone when
	// server.metrics_addr is set; nil otherwise.
	metricsSrv *http.Server
	metricsLis net.Listener
	stopping   atomic.Bool
	cancel     context.CancelFunc
	done       chan struct{}
}

// New builds every component from cfg. It does no network I/O; a bad key
// file or an invalid combination fails here, before anything listens.
func New(cfg *config.Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	recClock := opts.Now // nil: the recorder knows its clock is the real one
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = outboundClient()
	}
	if opts.ReloadTimeout <= 0 {
		opts.ReloadTimeout = 10 * time.Second
	}
	a := &App{cfg: cfg, opts: opts, log: opts.Logger, reg: prometheus.NewRegistry(), now: opts.Now}
	a.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	a.pm = newProcessMetrics(a.reg, opts.Now())
	s, err := newStack(cfg, opts, a.reg, nil)
	if err != nil {
		return nil, err
	}
	a.cur.Store(s)
	a.decider = a
	if opts.TracerProvider != nil {
		a.decider = newTracedDecider(a, opts.TracerProvider)
	}
	if err := a.buildFrontEnds(cfg, recClock); err != nil {
		s.close()
		return nil, err
	}
	a.rec.Preset(presetLabels(s))
	return a, nil
}

// buildFrontEnds builds the decision Recorder once and gives it to both
// front ends: the ext_authz server and the HTTP forward-auth handler.
// clock is Options.Now as given (nil: the real clock, which lets the
// recorder reuse a decision's end time as its log line's time).
func (a *App) buildFrontEnds(cfg *config.Config, clock func() time.Time) error {
	var err error
	a.rec, err = decisionlog.New(decisionlog.Config{Logger: a.log, LogDecisions: cfg.Log.Decisions, Registerer: a.reg, Now: clock})
	if err != nil {
		return err
	}
	if a.authz, err = extauthz.New(extauthz.Config{Decider: a.decider, Recorder: a.rec}); err != nil {
		return err
	}
	a.forward, err = forwardauth.New(forwardauth.Config{Decider: a.decider, Recorder: a.rec})
	return err
}

// Decide runs the current configuration's decision.
func (a *App) Decide(ctx context.Context, req *decision.Request) (decision.Result, error) {
	return a.cur.Load().engine.Decide(ctx, req)
}

var _ decision.Decider = (*App)(nil)

// outboundClient has timeouts at every stage; each component also bounds
// its own calls with a context deadline.
func outboundClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 16
	t.Proxy = http.ProxyFromEnvironment
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// Open listens on both addresses (a busy port fails here) and starts
// serving and loading keys in the background.
func (a *App) Open(ctx context.Context) error {
	var err error
	if a.grpcLis, err = net.Listen("tcp", a.cfg.Server.GRPCAddr); err != nil {
		return fmt.Errorf("app: listen server.grpc_addr: %w", err)
	}
	if a.httpLis, err = net.Listen("tcp", a.cfg.Server.HTTPAddr); err != nil {
		a.grpcLis.Close()
		return fmt.Errorf("app: listen server.http_addr: %w", err)
	}
	if addr := a.cfg.Server.MetricsAddr; addr != "" {
		if a.metricsLis, err = net.Listen("tcp", addr); err != nil {
			a.grpcLis.Close()
			a.httpLis.Close()
			return fmt.Errorf("app: listen server.metrics_addr: %w", err)
		}
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.bg, a.cancel = bg, cancel
	a.done = make(chan struct{})
	a.cur.Load().start(bg)

	a.grpcSrv = grpc.NewServer(GRPCServerOptions()...)
	authv3.RegisterAuthorizationServer(a.grpcSrv, a.authz)
	a.health = health.NewServer()
	a.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	a.health.SetServingStatus(authv3.Authorization_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(a.grpcSrv, a.health)
	a.httpSrv = &http.Server{Handler: a.httpHandler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}

	go func() { _ = a.grpcSrv.Serve(a.grpcLis) }()
	go func() { _ = a.httpSrv.Serve(a.httpLis) }()
	if a.metricsLis != nil {
		a.metricsSrv = &http.Server{Handler: a.metricsHandler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() { _ = a.metricsSrv.Serve(a.metricsLis) }()
	}
	go a.watchReady(bg)
	a.log.Info("idgate listening", "grpc_addr", a.GRPCAddr(), "http_addr", a.HTTPAddr(), "metrics_addr", a.MetricsAddr(), "issuers", len(a.cfg.Issuers))
	return nil
}

// GRPCServerOptions are the ext_authz server's gRPC options, tuned for a
// sidecar whose clients are a few proxies holding long-lived connections:
//
//   - keepalive enforced both ways (clients may ping every 5s at most);
//   - at most 1024 concurrent streams per connection and 4MiB messages, so
//     one client cannot make idgate hold unbounded work;
//   - a pool of stream workers: a Check runs on a goroutine whose stack has
//     already grown, instead of a new goroutine that grows (copies) its
//     stack on every call, which was ~10% of the CPU per Check;
//   - fixed 1MiB flow-control windows, which turns off the BDP estimator's
//     pings (a few hundred-byte Checks never need a larger window).
//
// bench/nullauthz uses the same options, so its floor is comparable.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.MaxRecvMsgSize(4 << 20),
		grpc.MaxConcurrentStreams(1024),
		grpc.NumStreamWorkers(streamWorkers),
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(1 << 20),
	}
}

// streamWorkers is the size of the Check goroutine pool; a Check arriving
// while all are busy gets its own goroutine, as without a pool.
const streamWorkers = 32

// GRPCAddr is the address the ext_authz service listens on.
func (a *App) GRPCAddr() string { return a.grpcLis.Addr().String() }

// HTTPAddr is the address the HTTP endpoints listen on.
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// MetricsAddr is the address /metrics is served on: server.metrics_addr's
// listener when set, else HTTPAddr.
func (a *App) MetricsAddr() string {
	if a.metricsLis != nil {
		return a.metricsLis.Addr().String()
	}
	return a.HTTPAddr()
}

// Ready reports whether every issuer's keys are loaded and idgate is not
// shutting down.
func (a *App) Ready() bool { return !a.stopping.Load() && a.cur.Load().verifier.Ready() }

// Unready names what keeps idgate from being ready and why, one entry per
// dependency ("issuer https://idp: keys not loaded: fetch …: status 503",
// "shutting down"); it is empty exactly when Ready is true.
func (a *App) Unready() []string {
	if a.stopping.Load() {
		return []string{"shutting down"}
	}
	return a.cur.Load().verifier.Unready()
}

// watchReady mirrors readiness into the gRPC health service: SERVING as
// soon as WaitReady returns, NOT_SERVING when readiness is lost (keys stale
// past tokens.max_stale), polled every 200ms, until ctx ends or idgate shuts down.
func (a *App) watchReady(ctx context.Context) {
	defer close(a.done)
	for {
		if a.WaitReady(ctx) != nil {
			return
		}
		a.setHealth(healthpb.HealthCheckResponse_SERVING)
		if pollUntil(ctx, 200*time.Millisecond, func() bool { return !a.Ready() }) != nil {
			return
		}
		a.setHealth(healthpb.HealthCheckResponse_NOT_SERVING)
	}
}

func (a *App) setHealth(st healthpb.HealthCheckResponse_ServingStatus) {
	a.health.SetServingStatus("", st)
	a.health.SetServingStatus(authv3.Authorization_ServiceDesc.ServiceName, st)
}

// Shutdown fails readiness first (/readyz 503, gRPC health NOT_SERVING),
// keeps answering Checks for server.shutdown_delay so load balancers see
// it and stop sending traffic, then stops accepting and lets in-flight
// Checks finish within server.shutdown_grace; past it, connections are cut.
// ctx ending cuts the delay short.
func (a *App) Shutdown(ctx context.Context) error {
	if a.grpcSrv == nil {
		a.cur.Load().close()
		return nil
	}
	if a.stopping.Swap(true) {
		return nil // already shut down
	}
	a.health.Shutdown()
	if d := a.cfg.Server.ShutdownDelay; d > 0 {
		a.log.Info("readiness failed; still serving until the delay ends", "shutdown_delay", d.String())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Server.ShutdownGrace)
	defer cancel()
	stopped := make(chan struct{})
	go func() { a.grpcSrv.GracefulStop(); close(stopped) }()
	herr := a.httpSrv.Shutdown(ctx)
	if a.metricsSrv != nil {
		_ = a.metricsSrv.Shutdown(ctx) // scrapes only: nothing to drain
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		a.grpcSrv.Stop()
	}
	a.cancel()
	<-a.done
	a.reloadMu.Lock()
	a.cur.Load().close()
	a.reloadMu.Unlock()
	if herr != nil && !errors.Is(herr, context.DeadlineExceeded) {
		return fmt.Errorf("app: http shutdown: %w", herr)
	}
	return nil
}
