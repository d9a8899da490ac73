package decisionlog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/internal/jsonlog"
)

// ReasonBadRequest labels the denial of a request a front end could not
// read (an ext_authz Check without HTTP attributes).
const ReasonBadRequest = "bad_request"

// Config assembles a Recorder.
type Config struct {
	// Logger receives one line per decision and one per fault; nil discards.
	// When its handler is a *jsonlog.Handler (idgate's JSON log), decision
	// lines are appended directly, in the bytes slog would write.
	Logger *slog.Logger
	// LogDecisions says which decisions are logged: "all" (or ""),
	// "denied" (denials and shadow-mode would-be denials) or "none".
	// Metrics count every decision regardless.
	LogDecisions string
	// Registerer receives the metrics; nil registers nothing. Registering
	// twice on one Registerer fails, which is why the app builds one
	// Recorder for all front ends.
	Registerer prometheus.Registerer
	// Now is the clock durations are measured with; nil means time.Now.
	Now func() time.Time
}

// Recorder records decisions in metrics and the decision log. It is safe
// for concurrent use and lives as long as the process: a configuration
// reload adds label values (Preset), it never replaces the Recorder.
type Recorder struct {
	cfg     Config
	metrics *Metrics
	// direct is the Logger's handler when decision lines can bypass slog.
	direct *jsonlog.Handler
	// realClock: cfg.Now is time.Now, so a decision's end time is also its
	// log line's time (one clock read fewer).
	realClock bool
}

// New validates cfg, registers the metrics and returns a Recorder.
func New(cfg Config) (*Recorder, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	realClock := cfg.Now == nil
	if realClock {
		cfg.Now = time.Now
	}
	switch cfg.LogDecisions {
	case "":
		cfg.LogDecisions = LogAll
	case LogAll, LogDenied, LogNone:
	default:
		return nil, fmt.Errorf("decisionlog: log decisions: %q is not one of all, denied, none", cfg.LogDecisions)
	}
	m, err := NewMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	direct, _ := cfg.Logger.Handler().(*jsonlog.Handler)
	return &Recorder{cfg: cfg, metrics: m, direct: direct, realClock: realClock}, nil
}

// Now is the Recorder's clock: a front end takes a decision's start time
// from it, so durations are measured on one clock.
func (r *Recorder) Now() time.Time { return r.cfg.Now() }

// Observe records a decision in metrics and writes its log line (see
// logDecision). start is when the front end received the request.
func (r *Recorder) Observe(ctx context.Context, req *decision.Request, res *decision.Result, start time.Time) {
	now := r.cfg.Now()
	d := now.Sub(start)
	r.metrics.observe(res, d)
	r.logDecision(ctx, req, res, d, now)
}

// Fault logs a decision that failed inside idgate (no decision was made):
// "decision failed" with the decision id and the error.
func (r *Recorder) Fault(ctx context.Context, req *decision.Request, err error) {
	r.cfg.Logger.ErrorContext(ctx, "decision failed", "decision_id", req.ID, "error", err)
}

// CheckFault is Fault for an ext_authz Check, which Envoy sees as a gRPC
// error: it also counts in check_errors_total and
// check_duration_seconds{result="error"}.
func (r *Recorder) CheckFault(ctx context.Context, req *decision.Request, err error, start time.Time) {
	r.metrics.errors.Inc()
	r.metrics.durError.Observe(r.cfg.Now().Sub(start).Seconds())
	r.Fault(ctx, req, err)
}

// CheckStarted and CheckDone bracket an ext_authz Check in
// checks_in_flight.
func (r *Recorder) CheckStarted() { r.metrics.inFlight.Inc() }

// CheckDone: see CheckStarted.
func (r *Recorder) CheckDone() { r.metrics.inFlight.Dec() }

// Preset exports the known label sets of the decision metrics at zero; see
// [Labels].
func (r *Recorder) Preset(l Labels) { r.metrics.Preset(l) }
