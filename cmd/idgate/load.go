package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/devtools/loadgen"
)

// loadArgs are the flags of `idgate load`.
type loadArgs struct {
	cfg                  loadgen.Config
	target               loadgen.Target
	tokenFile, idpAddr   string
	audience, metricsURL string
	tokens, users, pid   int
	wait                 time.Duration
	warmup               int64
	jsonOut              bool
}

func parseLoadArgs(args []string, stdout, stderr io.Writer) (*loadArgs, error) {
	fs := newFlagSet("load")
	la := &loadArgs{}
	fs.StringVar(&la.cfg.Addr, "addr", "127.0.0.1:9001", "ext_authz gRPC server, HOST:PORT (idgate or any other)")
	fs.StringVar(&la.tokenFile, "token-file", "", "file of bearer tokens, one per line, cycled")
	fs.IntVar(&la.tokens, "tokens", 0, "mint this many distinct RS256 tokens with a loopback development IdP (see --idp-addr)")
	fs.IntVar(&la.users, "users", 1, "with --tokens: number of distinct users (sub) the tokens are spread over")
	fs.StringVar(&la.idpAddr, "idp-addr", "127.0.0.1:9555", "with --tokens: loopback address of the development IdP the server must trust")
	fs.StringVar(&la.audience, "audience", "idgate-load", "with --tokens: the tokens' aud")
	fs.DurationVar(&la.wait, "wait", time.Minute, "with --tokens: how long to wait for the server to accept the IdP's tokens")
	fs.IntVar(&la.cfg.Concurrency, "concurrency", 16, "Checks in flight")
	fs.IntVar(&la.cfg.Conns, "conns", 1, "gRPC connections")
	fs.DurationVar(&la.cfg.Duration, "duration", 0, "stop after this long (default 10s unless --requests is set)")
	fs.Int64Var(&la.cfg.Requests, "requests", 0, "stop after this many Checks")
	fs.Int64Var(&la.warmup, "warmup", 0, "first send this many Checks, not measured (e.g. one per token, to fill caches)")
	fs.DurationVar(&la.cfg.Timeout, "timeout", 5*time.Second, "deadline of each Check")
	fs.StringVar(&la.metricsURL, "metrics-url", "", "server's Prometheus /metrics URL, for its CPU time (process_cpu_seconds_total)")
	fs.IntVar(&la.pid, "pid", 0, "server's process id, for its CPU time from /proc/PID/stat (same machine)")
	fs.StringVar(&la.target.Path, "path", "/api/v1/runs", "request path")
	fs.StringVar(&la.target.Host, "host", "localhost", "request host")
	fs.StringVar(&la.target.Method, "method", "GET", "request method")
	fs.BoolVar(&la.jsonOut, "json", false, "print the result as one JSON object")
	fs.Int64Var(&la.cfg.FailFast, "fail-fast", 100, "stop with the reason when the first N Checks all fail (errors; denials too when tokens are sent); 0: never")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("load: unexpected argument %q", fs.Arg(0))
	case la.tokenFile != "" && la.tokens > 0:
		return nil, errors.New("load: --token-file and --tokens are exclusive")
	case la.metricsURL != "" && la.pid != 0:
		return nil, errors.New("load: --metrics-url and --pid are exclusive")
	case la.users < 1:
		return nil, errors.New("load: --users must be at least 1")
	}
	if la.cfg.Duration == 0 && la.cfg.Requests == 0 {
		la.cfg.Duration = 10 * time.Second
	}
	if la.metricsURL != "" {
		la.cfg.CPU = loadgen.MetricsCPU(nil, la.metricsURL)
	} else if la.pid != 0 {
		la.cfg.CPU = loadgen.ProcCPU(la.pid)
	}
	return la, nil
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	la, err := parseLoadArgs(args, stdout, stderr)
	if err != nil {
		return err
	}
	var tokens []string
	switch {
	case la.tokenFile != "":
		tokens, err = readTokens(la.tokenFile)
	case la.tokens > 0:
		var idp *devidp.Provider
		idp, tokens, err = la.startIdP(ctx, stderr)
		if idp != nil {
			defer idp.Close()
		}
	}
	if err != nil {
		return err
	}
	la.cfg.ExpectAllow = len(tokens) > 0
	if len(tokens) == 0 {
		tokens = []string{""} // no credential: measures the deny path
	}
	la.cfg.Checks = make([]*authv3.CheckRequest, len(tokens))
	for i, t := range tokens {
		la.cfg.Checks[i] = loadgen.NewCheckRequest(la.target, t, i)
	}
	if la.warmup > 0 {
		w := la.cfg
		w.Requests, w.Duration, w.CPU = la.warmup, 0, nil
		wres, err := loadgen.Run(ctx, w)
		if err != nil {
			return fmt.Errorf("load: warm-up: %w", err)
		}
		fmt.Fprintf(stderr, "idgate load: warm-up: %d Checks, %d allowed, %d errors %s\n", wres.Requests, wres.Allowed, wres.Errors,
			loadgen.FormatOutcomes(wres.Outcomes))
		if wres.StoppedEarly != "" {
			return fmt.Errorf("load: warm-up stopped: %s", wres.StoppedEarly)
		}
	}
	la.cfg.Progress = stderr
	res, err := loadgen.Run(ctx, la.cfg)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	la.report(stdout, &res)
	if res.StoppedEarly != "" {
		return fmt.Errorf("load: stopped: %s", res.StoppedEarly)
	}
	if res.Errors > 0 {
		return fmt.Errorf("load: %d of %d Checks failed (first: %s)", res.Errors, res.Requests, res.FirstError)
	}
	return nil
}

// readTokens reads one token per non-empty line; a "Bearer " prefix is dropped.
func readTokens(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		t = strings.TrimSpace(strings.TrimPrefix(t, "Bearer "))
		if t != "" {
			out = append(out, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load: %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load: %s: no tokens", path)
	}
	return out, nil
}

// startIdP starts the development IdP, mints the tokens (plus one probe
// token) and waits until the server accepts the probe.
func (la *loadArgs) startIdP(ctx context.Context, stderr io.Writer) (*devidp.Provider, []string, error) {
	idp, err := devidp.Start(devidp.Options{Addr: la.idpAddr, ClientID: la.audience})
	if err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	fmt.Fprintf(stderr, "idgate load: development IdP %s (aud %s, RS256); the server must trust it, e.g.\n"+
		"  IDGATE_ISSUERS='[{\"issuer\":%q,\"audiences\":[%q],\"userinfo\":false}]' idgate serve\n",
		idp.Issuer(), la.audience, idp.Issuer(), la.audience)
	start := time.Now()
	toks, err := mintTokens(idp, la.tokens+1, la.users)
	if err != nil {
		return idp, nil, err
	}
	fmt.Fprintf(stderr, "idgate load: minted %d tokens in %s\n", la.tokens, time.Since(start).Round(time.Millisecond))
	probe := toks[la.tokens]
	if err := waitAccepted(ctx, la.cfg.Addr, la.target, probe, la.wait, stderr); err != nil {
		return idp, nil, err
	}
	return idp, toks[:la.tokens], nil
}

// mintTokens signs n distinct tokens over users subjects, on every core.
func mintTokens(idp *devidp.Provider, n, users int) ([]string, error) {
	out := make([]string, n)
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += len(errs) {
				u := i % users
				out[i], errs[w] = idp.Mint(map[string]any{"sub": fmt.Sprintf("load-user-%d", u),
					"email": fmt.Sprintf("load-user-%d@example.com", u), "jti": fmt.Sprintf("load-%d", i)},
					devidp.MintOptions{Alg: "RS256"})
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return out, nil
}

// waitAccepted sends the probe token until the server allows it, saying
// on stderr what the server answers each time the answer changes, and
// ending with the last answer when limit passes.
func waitAccepted(ctx context.Context, addr string, target loadgen.Target, probe string, limit time.Duration, stderr io.Writer) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer conn.Close()
	client := authv3.NewAuthorizationClient(conn)
	req := loadgen.NewCheckRequest(target, probe, -1)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	fmt.Fprintf(stderr, "idgate load: waiting up to %s (--wait) for %s to accept the IdP's tokens\n", limit, addr)
	last := ""
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := client.Check(cctx, req)
		ccancel()
		if err == nil && codes.Code(resp.GetStatus().GetCode()) == codes.OK {
			return nil
		}
		// An answer cut short by the end of the wait says nothing new.
		if dl, _ := ctx.Deadline(); time.Now().Before(dl) || last == "" {
			if now := probeOutcome(resp, err); now != last {
				last = now
				fmt.Fprintf(stderr, "idgate load: %s answers: %s\n", addr, last)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load: %s did not accept the IdP's tokens within %s; last answer: %s", addr, limit, last)
		case <-t.C:
		}
	}
}

// probeOutcome says what the server answered a probe: a denial with its
// HTTP status and reason, or the gRPC error.
func probeOutcome(resp *authv3.CheckResponse, err error) string {
	if err != nil {
		st, _ := status.FromError(err)
		return fmt.Sprintf("error %s: %s", st.Code(), st.Message())
	}
	reason := resp.GetDynamicMetadata().GetFields()["reason"].GetStringValue()
	return fmt.Sprintf("denied %d %s (%s)", resp.GetDeniedResponse().GetStatus().GetCode(), reason, resp.GetStatus().GetMessage())
}

// loadReport is the --json form of a result.
type loadReport struct {
	Addr             string  `json:"addr"`
	Concurrency      int     `json:"concurrency"`
	Conns            int     `json:"conns"`
	Requests         int64   `json:"requests"`
	Allowed          int64   `json:"allowed"`
	Denied           int64   `json:"denied"`
	Errors           int64   `json:"errors"`
	ElapsedSeconds   float64 `json:"elapsed_seconds"`
	RPS              float64 `json:"rps"`
	P50Micros        float64 `json:"p50_us"`
	P90Micros        float64 `json:"p90_us"`
	P99Micros        float64 `json:"p99_us"`
	MaxMicros        float64 `json:"max_us"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	CPUPerCheckMicro float64 `json:"server_cpu_per_check_us,omitempty"`
	AllowBytes       int     `json:"allow_bytes,omitempty"`
	// Failures counts denials and errors by reason ("deny forbidden", "error Unavailable").
	Failures     map[string]int64 `json:"failures,omitempty"`
	StoppedEarly string           `json:"stopped_early,omitempty"`
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func (la *loadArgs) report(w io.Writer, res *loadgen.Result) {
	h := &res.Latency
	if la.jsonOut {
		_ = json.NewEncoder(w).Encode(loadReport{Addr: la.cfg.Addr, Concurrency: la.cfg.Concurrency, Conns: la.cfg.Conns,
			Requests: res.Requests, Allowed: res.Allowed, Denied: res.Denied, Errors: res.Errors,
			ElapsedSeconds: res.Elapsed.Seconds(), RPS: res.RPS(), P50Micros: micros(h.Quantile(.5)),
			P90Micros: micros(h.Quantile(.9)), P99Micros: micros(h.Quantile(.99)), MaxMicros: micros(h.Max()),
			ServerCPUSeconds: res.ServerCPU.Seconds(), CPUPerCheckMicro: micros(res.CPUPerCheck()), AllowBytes: res.AllowBytes,
			Failures: res.Outcomes, StoppedEarly: res.StoppedEarly})
		return
	}
	fmt.Fprintf(w, "target       %s (%d in flight, %d connection(s))\n", la.cfg.Addr, la.cfg.Concurrency, la.cfg.Conns)
	fmt.Fprintf(w, "requests     %d in %.2fs: %d allowed, %d denied, %d errors\n",
		res.Requests, res.Elapsed.Seconds(), res.Allowed, res.Denied, res.Errors)
	if len(res.Outcomes) > 0 {
		fmt.Fprintf(w, "failures     %s\n", loadgen.FormatOutcomes(res.Outcomes))
	}
	fmt.Fprintf(w, "throughput   %.0f requests/s\n", res.RPS())
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  max %s\n",
		short(h.Quantile(.5)), short(h.Quantile(.9)), short(h.Quantile(.99)), short(h.Max()))
	if res.CPUMeasured {
		fmt.Fprintf(w, "server CPU   %.2fs, %s per Check\n", res.ServerCPU.Seconds(), short(res.CPUPerCheck()))
	}
}

// short prints a latency with three significant digits.
func short(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", micros(d))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
