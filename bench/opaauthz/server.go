package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync/atomic"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/uuid"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/cache"
	"github.com/open-policy-agent/opa/v1/topdown/print"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

//go:embed policy.rego
var policy string

// query is opa-envoy-plugin's default decision path, envoy/authz/allow.
const query = "data.envoy.authz.allow"

// Policy is what the policy verifies tokens against.
type Policy struct {
	// JWKS is the key set, the JSON document as fetched.
	JWKS string
	// Issuer is the iss the tokens must carry.
	Issuer string
	// Audience is an aud the tokens must carry.
	Audience string
}

// Server is an ext_authz v3 server that decides each Check the way
// opa-envoy-plugin does: input from the request, one evaluation of a
// query prepared once, in a read transaction of the policy's store.
type Server struct {
	authv3.UnimplementedAuthorizationServer
	interQuery cache.InterQueryCache
	// valueCache is nil unless --key-cache: the plugin passes none, so
	// decode_verify parses the JWKS on every Check.
	valueCache cache.InterQueryValueCache
	loaded     atomic.Pointer[prepared]
}

type prepared struct {
	store storage.Store
	query rego.PreparedEvalQuery
}

// NewServer returns a Server with no policy loaded; Checks fail with
// Unavailable until Load.
func NewServer(ctx context.Context, keyCache bool) (*Server, error) {
	cfg, err := cache.ParseCachingConfig(nil)
	if err != nil {
		return nil, fmt.Errorf("opaauthz: %w", err)
	}
	s := &Server{interQuery: cache.NewInterQueryCacheWithContext(ctx, cfg)}
	if keyCache {
		s.valueCache = cache.NewInterQueryValueCache(ctx, cfg)
	}
	return s, nil
}

// Load compiles the policy over p and prepares the query, once; Checks
// use it from then on.
func (s *Server) Load(ctx context.Context, p Policy) error {
	store := inmem.NewFromObject(map[string]any{"opaauthz": map[string]any{
		"jwks": p.JWKS, "issuer": p.Issuer, "audience": p.Audience}})
	pq, err := rego.New(rego.Query(query), rego.Module("policy.rego", policy), rego.Store(store),
		rego.EnablePrintStatements(true)).PrepareForEval(ctx)
	if err != nil {
		return fmt.Errorf("opaauthz: prepare %s: %w", query, err)
	}
	s.loaded.Store(&prepared{store: store, query: pq})
	return nil
}

// Check evaluates the policy for req: OK when it allows, PERMISSION_DENIED
// when it denies or the request cannot be read (then with a 400, as the
// plugin answers); a gRPC error when the
// evaluation itself fails. Like the plugin, a boolean decision gives a
// bare status and the decision id in the dynamic metadata.
func (s *Server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	p := s.loaded.Load()
	if p == nil {
		return nil, status.Error(codes.Unavailable, "opaauthz: policy not loaded yet (JWKS not fetched)")
	}
	m := metrics.New()
	m.Timer(metrics.ServerHandler).Start()
	defer m.Timer(metrics.ServerHandler).Stop()
	decisionID := uuid.NewString()
	input, err := checkInput(req)
	if err != nil {
		r := decision(codes.PermissionDenied, decisionID)
		r.Status.Message = "opaauthz: request: " + err.Error()
		r.HttpResponse = &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode_BadRequest}, Body: r.Status.Message}}
		return r, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "opaauthz: input: %v", err)
	}
	allowed, err := s.eval(ctx, p, v, m)
	if err != nil {
		return nil, status.Errorf(codes.Unknown, "opaauthz: %v", err)
	}
	if !allowed {
		return decision(codes.PermissionDenied, decisionID), nil
	}
	return decision(codes.OK, decisionID), nil
}

// eval runs the prepared query in its own read transaction with the
// evaluation options the plugin passes.
func (s *Server) eval(ctx context.Context, p *prepared, input ast.Value, m metrics.Metrics) (bool, error) {
	txn, err := p.store.NewTransaction(ctx, storage.TransactionParams{})
	if err != nil {
		return false, err
	}
	defer p.store.Abort(ctx, txn)
	rs, err := p.query.Eval(ctx,
		rego.EvalParsedInput(input),
		rego.EvalTransaction(txn),
		rego.EvalMetrics(m),
		rego.EvalInterQueryBuiltinCache(s.interQuery),
		rego.EvalInterQueryBuiltinValueCache(s.valueCache),
		rego.EvalPrintHook(noPrint{}),
		rego.EvalNDBuiltinCache(nil),
		rego.EvalEvaluatedRuleTracker(&topdown.EvaluatedRuleTracker{}),
	)
	switch {
	case err != nil:
		return false, err
	case len(rs) == 0:
		return false, errors.New("undefined decision")
	case len(rs) > 1:
		return false, errors.New("multiple evaluation results")
	}
	allowed, ok := rs[0].Expressions[0].Value.(bool)
	if !ok {
		return false, fmt.Errorf("illegal value for policy evaluation result: %T", rs[0].Expressions[0].Value)
	}
	return allowed, nil
}

// decision is a bare answer: code and the decision id.
func decision(code codes.Code, decisionID string) *authv3.CheckResponse {
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(code)},
		DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{
			"decision_id": structpb.NewStringValue(decisionID)}},
	}
}

// noPrint drops the policy's print() output (this policy prints nothing).
type noPrint struct{}

func (noPrint) Print(print.Context, string) error { return nil }
