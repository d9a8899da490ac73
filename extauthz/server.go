package extauthz

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
)

// Config assembles the server.
type Config struct {
	// Decider is required.
	Decider decision.Decider
	// Recorder records every decision (metrics and the decision log line).
	// Required; the app builds one and gives it to every front end.
	Recorder *decisionlog.Recorder
}

// Server implements envoy.service.auth.v3.Authorization.
type Server struct {
	authv3.UnimplementedAuthorizationServer
	cfg Config
	// caches holds what responses share (metadata values, encoded
	// metadata), for this Server only; Reset replaces it.
	caches atomic.Pointer[responseCaches]
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Decider == nil {
		return nil, errors.New("extauthz: decider required")
	}
	if cfg.Recorder == nil {
		return nil, errors.New("extauthz: recorder required")
	}
	s := &Server{cfg: cfg}
	s.caches.Store(newResponseCaches())
	return s, nil
}

// Reset drops what the Server's responses share (built from routes,
// issuers and subjects of the configuration in use): the app calls it
// after a reload, so nothing of the old configuration is kept.
func (s *Server) Reset() { s.caches.Store(newResponseCaches()) }

// Check answers one ext_authz call. A malformed CheckRequest is a denial;
// only a fault inside idgate returns a gRPC error, so Envoy's
// failure_mode_allow decides what happens then.
func (s *Server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	rec := s.cfg.Recorder
	start := rec.Now()
	rec.CheckStarted()
	defer rec.CheckDone()
	c := s.caches.Load()
	dreq, ok := Translate(req)
	if !ok {
		res := decision.Result{Reply: decision.Reply{Status: 400, Reason: reasonBadRequest, Message: "malformed check request"}}
		rec.Observe(ctx, dreq, &res, start)
		return denied(c, &res), nil
	}
	res, err := s.cfg.Decider.Decide(ctx, dreq)
	if err != nil {
		rec.CheckFault(ctx, dreq, err, start)
		return nil, status.Error(codes.Internal, "idgate: internal error")
	}
	rec.Observe(ctx, dreq, &res, start)
	if !res.Allowed {
		return denied(c, &res), nil
	}
	return allowed(c, &res), nil
}

// reasonBadRequest denies a CheckRequest without HTTP attributes.
const reasonBadRequest = decisionlog.ReasonBadRequest

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
