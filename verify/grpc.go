package verify

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// errUnauthenticated is the only error a client sees: no token, no reason.
var errUnauthenticated = status.Error(codes.Unauthenticated, "unauthenticated")

// fromMetadata verifies the identity header of the incoming metadata
// (exactly one value) and returns ctx carrying the claims.
func (v *Verifier) fromMetadata(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	c, err := v.one(ctx, md.Get(strings.ToLower(v.header)))
	if err != nil {
		return nil, errUnauthenticated
	}
	return NewContext(ctx, c), nil
}

// UnaryServerInterceptor refuses a unary call without a valid identity
// header with codes.Unauthenticated, and puts the claims in the handler's
// context (ClaimsFromContext).
func (v *Verifier) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := v.fromMetadata(ctx)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams.
func (v *Verifier) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := v.fromMetadata(ss.Context())
		if err != nil {
			return err
		}
		return handler(srv, &claimsStream{ServerStream: ss, ctx: ctx})
	}
}

type claimsStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *claimsStream) Context() context.Context { return s.ctx }
