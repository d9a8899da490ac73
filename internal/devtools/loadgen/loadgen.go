package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Config describes one load run. A run stops at Requests Checks or after
// Duration, whichever comes first; at least one of them is required.
type Config struct {
	// Addr is the ext_authz gRPC server, HOST:PORT (plaintext). Required.
	Addr string
	// Checks are the requests to send, cycled in order. Required.
	Checks []*authv3.CheckRequest
	// Concurrency is the number of workers, each with one Check in flight.
	// Zero means 16.
	Concurrency int
	// Conns is the number of gRPC connections the workers share
	// round-robin. Zero means 1.
	Conns int
	// Requests bounds the number of Checks sent; zero means no bound.
	Requests int64
	// Duration bounds the run's length; zero means no bound.
	Duration time.Duration
	// Timeout bounds each Check, and connecting. Zero means 5s.
	Timeout time.Duration
	// CPU, when set, reads the server's CPU time before and after the run.
	CPU CPUReader
	// Progress receives one line every ProgressEvery while the run lasts;
	// nil means none.
	Progress io.Writer
	// ProgressEvery is the progress interval. Zero means 1s.
	ProgressEvery time.Duration
	// FailFast stops the run when the first FailFast finished Checks all
	// failed (a gRPC error, or a denial when ExpectAllow), so a run against
	// a server that refuses everything ends at once with the reason instead
	// of measuring failures. Zero means never.
	FailFast int64
	// ExpectAllow counts a denial as a failure for FailFast: the requests
	// carry credentials the server should accept.
	ExpectAllow bool
}

func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		return c, errors.New("loadgen: addr required")
	}
	if len(c.Checks) == 0 {
		return c, errors.New("loadgen: no requests to send")
	}
	if c.Requests <= 0 && c.Duration <= 0 {
		return c, errors.New("loadgen: a request count or a duration is required")
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Conns <= 0 {
		c.Conns = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	return c, nil
}

// Result is what a run measured.
type Result struct {
	// Requests is the number of Checks sent and finished (answered or failed).
	Requests int64
	// Allowed and Denied count answered Checks by their status.
	Allowed, Denied int64
	// Errors counts Checks that returned a gRPC error; FirstError is the first.
	Errors     int64
	FirstError string
	// Elapsed is the run's wall time, from the first Check to the last answer.
	Elapsed time.Duration
	// Latency holds every finished Check's latency.
	Latency Histogram
	// Outcomes counts denials and errors by reason: "deny reason" (the
	// decision's dynamic metadata "reason", else its HTTP status) and
	// "error Code" (the gRPC status code).
	Outcomes map[string]int64
	// StoppedEarly, when not empty, says why FailFast ended the run.
	StoppedEarly string
	// ServerCPU is the server's CPU time during the run, when CPUMeasured.
	ServerCPU   time.Duration
	CPUMeasured bool
	// AllowBytes is the encoded size of an allow response (the first one
	// seen), so a do-nothing server can be made to answer with as many.
	AllowBytes int
}

// RPS is finished Checks per second of wall time.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// CPUPerCheck is the server's CPU time per finished Check (0 when unknown).
func (r *Result) CPUPerCheck() time.Duration {
	if !r.CPUMeasured || r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Requests)
}

// run is the shared state of one run's workers.
type run struct {
	cfg     Config
	clients []authv3.AuthorizationClient
	next    atomic.Int64
	done    atomic.Int64
	errs    atomic.Int64
	allowed atomic.Int64
	stop    atomic.Bool
	// outcomes counts denials and errors by reason (string → *atomic.Int64),
	// lock-free once a reason has been seen.
	outcomes sync.Map
	early    atomic.Pointer[string]
}

// count adds one to the outcome named key.
func (r *run) count(key string) {
	c, ok := r.outcomes.Load(key)
	if !ok {
		c, _ = r.outcomes.LoadOrStore(key, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

// snapshot returns the outcomes counted so far.
func (r *run) snapshot() map[string]int64 {
	out := map[string]int64{}
	r.outcomes.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// FormatOutcomes prints outcomes as "reason=n" pairs, most frequent first.
func FormatOutcomes(m map[string]int64) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return cmp.Compare(m[b], m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// failFast stops the run once the first FailFast Checks have finished and
// none of them succeeded.
func (r *run) failFast(n int64) {
	if r.cfg.FailFast <= 0 || n != r.cfg.FailFast || r.allowed.Load() > 0 {
		return
	}
	if !r.cfg.ExpectAllow && r.errs.Load() < n {
		return
	}
	why := fmt.Sprintf("the first %d Checks all failed: %s", n, FormatOutcomes(r.snapshot()))
	r.early.Store(&why)
	r.stop.Store(true)
}

// Run connects, sends Checks until the count or the duration is reached
// (or ctx ends), and returns the measurements. Connecting happens before
// the clock starts. The error is for a run that could not start; failed
// Checks are counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg}
	for range cfg.Conns {
		conn, err := dial(ctx, cfg.Addr, cfg.Timeout)
		if err != nil {
			return Result{}, err
		}
		defer conn.Close()
		r.clients = append(r.clients, authv3.NewAuthorizationClient(conn))
	}
	var res Result
	var cpu0 time.Duration
	if cfg.CPU != nil {
		if cpu0, err = cfg.CPU(ctx); err != nil {
			return Result{}, err
		}
	}
	start := time.Now()
	res = r.work(ctx, start)
	res.Elapsed = time.Since(start)
	if cfg.CPU != nil {
		cpu1, err := cfg.CPU(ctx)
		if err != nil {
			return res, err
		}
		res.ServerCPU, res.CPUMeasured = cpu1-cpu0, true
	}
	return res, ctx.Err()
}

func dial(ctx context.Context, addr string, timeout time.Duration) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			return nil, fmt.Errorf("loadgen: connect %s: %w", addr, ctx.Err())
		}
	}
	return conn, nil
}

// work runs the workers and the clock, and merges what they measured.
func (r *run) work(ctx context.Context, start time.Time) Result {
	results := make([]Result, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { r.worker(ctx, r.clients[i%len(r.clients)], &results[i]) })
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	r.clock(ctx, start, finished)
	var res Result
	for i := range results {
		w := &results[i]
		res.Requests += w.Requests
		res.Allowed += w.Allowed
		res.Denied += w.Denied
		res.Errors += w.Errors
		if res.FirstError == "" {
			res.FirstError = w.FirstError
		}
		res.AllowBytes = max(res.AllowBytes, w.AllowBytes)
		res.Latency.Merge(&w.Latency)
	}
	res.Outcomes = r.snapshot()
	if why := r.early.Load(); why != nil {
		res.StoppedEarly = *why
	}
	return res
}

// clock stops the workers at the deadline and writes progress lines until
// they have all returned.
func (r *run) clock(ctx context.Context, start time.Time, finished <-chan struct{}) {
	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(r.cfg.ProgressEvery)
	defer tick.Stop()
	lastN, lastT := int64(0), start
	cancelled := ctx.Done()
	for {
		select {
		case <-finished:
			return
		case <-cancelled:
			r.stop.Store(true)
			cancelled = nil
		case <-deadline:
			r.stop.Store(true)
		case now := <-tick.C:
			if r.cfg.Progress != nil {
				n := r.done.Load()
				rate := float64(n-lastN) / now.Sub(lastT).Seconds()
				fmt.Fprintf(r.cfg.Progress, "%6.1fs %10d done %9.0f req/s %6d errors  %s\n",
					now.Sub(start).Seconds(), n, rate, r.errs.Load(), FormatOutcomes(r.snapshot()))
				lastN, lastT = n, now
			}
		}
	}
}

func (r *run) worker(ctx context.Context, c authv3.AuthorizationClient, res *Result) {
	checks := r.cfg.Checks
	for !r.stop.Load() {
		n := r.next.Add(1)
		if r.cfg.Requests > 0 && n > r.cfg.Requests {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		t0 := time.Now()
		resp, err := c.Check(cctx, checks[(n-1)%int64(len(checks))])
		d := time.Since(t0)
		cancel()
		if ctx.Err() != nil {
			return // interrupted: not a measurement
		}
		res.Latency.Record(d)
		res.Requests++
		switch {
		case err != nil:
			res.Errors++
			r.errs.Add(1)
			r.count("error " + status.Code(err).String())
			if res.FirstError == "" {
				res.FirstError = err.Error()
			}
		case codes.Code(resp.GetStatus().GetCode()) == codes.OK:
			if res.AllowBytes == 0 {
				res.AllowBytes = proto.Size(resp)
			}
			res.Allowed++
			r.allowed.Add(1)
		default:
			res.Denied++
			r.count("deny " + denyReason(resp))
		}
		r.failFast(r.done.Add(1))
	}
}

// denyReason is the denial's dynamic metadata "reason" (idgate sets it),
// else its HTTP status.
func denyReason(resp *authv3.CheckResponse) string {
	if v := resp.GetDynamicMetadata().GetFields()["reason"].GetStringValue(); v != "" {
		return v
	}
	return fmt.Sprintf("status_%d", resp.GetDeniedResponse().GetStatus().GetCode())
}
