package extauthz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idgate/idgate/decision"
)

// Decider makes the decision; *decision.Engine implements it.
type Decider interface {
	Decide(ctx context.Context, req *decision.Request) (decision.Result, error)
}

// Config assembles the server.
type Config struct {
	// Decider is required.
	Decider Decider
	// Logger receives one line per decision; nil discards.
	Logger *slog.Logger
	// LogDecisions says which decisions are logged: "all" (or ""),
	// "denied" (denials and shadow-mode would-be denials) or "none".
	// Metrics count every decision regardless.
	LogDecisions string
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock used for durations; nil means time.Now.
	Now func() time.Time
}

// Server implements envoy.service.auth.v3.Authorization.
type Server struct {
	authv3.UnimplementedAuthorizationServer
	cfg     Config
	metrics *Metrics
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Decider == nil {
		return nil, errors.New("extauthz: decider required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch cfg.LogDecisions {
	case "":
		cfg.LogDecisions = LogAll
	case LogAll, LogDenied, LogNone:
	default:
		return nil, fmt.Errorf("extauthz: log decisions: %q is not one of all, denied, none", cfg.LogDecisions)
	}
	m, err := NewMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, metrics: m}, nil
}

// Check answers one ext_authz call. A malformed CheckRequest is a denial;
// only a fault inside idgate returns a gRPC error, so Envoy's
// failure_mode_allow decides what happens then.
func (s *Server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	start := s.cfg.Now()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	dreq, ok := Translate(req)
	if !ok {
		res := decision.Result{Status: 400, Reason: reasonBadRequest, Message: "malformed check request"}
		s.Observe(ctx, dreq, &res, start)
		return denied(&res), nil
	}
	res, err := s.cfg.Decider.Decide(ctx, dreq)
	if err != nil {
		s.metrics.errors.Inc()
		s.metrics.durError.Observe(s.cfg.Now().Sub(start).Seconds())
		s.cfg.Logger.ErrorContext(ctx, "decision failed", "decision_id", dreq.ID, "error", err)
		return nil, status.Error(codes.Internal, "idgate: internal error")
	}
	s.Observe(ctx, dreq, &res, start)
	if !res.Allowed {
		return denied(&res), nil
	}
	return allowed(&res), nil
}

// reasonBadRequest denies a CheckRequest without HTTP attributes.
const reasonBadRequest = "bad_request"

// Translate turns a CheckRequest into a decision.Request. Header names are
// lower-cased (Envoy already does; other clients may not) and copies of one
// header are joined with ",", so "KubeFlow-UserID" and two copies of it are
// both seen; the names that came in several copies are listed in
// Repeated. Principal is source.principal: the mTLS peer identity Envoy
// itself verified, never a header. ok is false when the request has no
// HTTP attributes.
func Translate(req *authv3.CheckRequest) (*decision.Request, bool) {
	h := req.GetAttributes().GetRequest().GetHttp()
	if h == nil {
		return &decision.Request{ID: decision.NewID()}, false
	}
	headers := h.GetHeaders()
	var repeated []string
	if len(headers) == 0 && h.GetHeaderMap() != nil {
		headers, repeated = fromHeaderMap(h.GetHeaderMap().GetHeaders())
	} else if needsLowering(headers) {
		headers, repeated = lowered(headers)
	}
	id := h.GetId()
	if rid := headers["x-request-id"]; rid != "" {
		id = rid
	}
	if id == "" {
		id = decision.NewID()
	}
	return &decision.Request{ID: id, Method: h.GetMethod(), Scheme: h.GetScheme(), Host: h.GetHost(), Path: h.GetPath(),
		Headers: headers, Principal: req.GetAttributes().GetSource().GetPrincipal(), Repeated: repeated}, true
}

func needsLowering(m map[string]string) bool {
	for k := range m {
		for i := 0; i < len(k); i++ {
			if c := k[i]; c >= 'A' && c <= 'Z' {
				return true
			}
		}
	}
	return false
}

// lowered lower-cases the names of m, joining the values of names that
// meet; repeated lists those names.
func lowered(m map[string]string) (out map[string]string, repeated []string) {
	out = make(map[string]string, len(m))
	for k, v := range m {
		k = strings.ToLower(k)
		if prev, ok := out[k]; ok {
			v = prev + "," + v
			repeated = appendOnce(repeated, k)
		}
		out[k] = v
	}
	return out, repeated
}

func appendOnce(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

// fromHeaderMap reads Envoy's header_map (one entry per copy), joining
// copies as the headers map does; repeated lists the names met twice.
func fromHeaderMap(hs []*corev3.HeaderValue) (out map[string]string, repeated []string) {
	out = make(map[string]string, len(hs))
	for _, hv := range hs {
		k := strings.ToLower(hv.GetKey())
		v := hv.GetValue()
		if v == "" && len(hv.GetRawValue()) > 0 {
			v = string(hv.GetRawValue())
		}
		if prev, ok := out[k]; ok {
			v = prev + "," + v
			repeated = appendOnce(repeated, k)
		}
		out[k] = v
	}
	return out, repeated
}

// Preset exports the known label sets of the decision metrics at zero; see
// [Labels].
func (s *Server) Preset(l Labels) { s.metrics.Preset(l) }
