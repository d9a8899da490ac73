package main

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// removed are the identity headers idgate lists for removal when it sets
// kubeflow-userid, kubeflow-groups and x-flyte-identity.
var removed = []string{"x-amzn-oidc-data", "x-amzn-oidc-identity", "x-amzn-oidc-accesstoken", "x-forwarded-user",
	"x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username", "x-forwarded-access-token",
	"x-auth-request-user", "x-auth-request-email", "x-auth-request-groups", "x-auth-request-preferred-username",
	"x-auth-request-access-token", "remote-user", "x-remote-user", "x-webauth-user"}

// shapedAllow is an allow shaped like idgate's (three identity headers
// overwritten, sixteen names removed, dynamic metadata) whose encoding is
// size bytes: the signed-header value is padded to fit. It measures what
// answering with idgate's bytes costs a server that decides nothing.
func shapedAllow(size int) (*authv3.CheckResponse, error) {
	build := func(pad int) *authv3.CheckResponse {
		hdr := func(k, v string) *corev3.HeaderValueOption {
			return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
		}
		md, _ := structpb.NewStruct(map[string]any{"reason": "ok", "route": "default",
			"issuer": "http://127.0.0.1:19555", "subject": "load-user-0"})
		return &authv3.CheckResponse{
			Status: &status.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					hdr("kubeflow-userid", "load-user-0@example.com"),
					hdr("kubeflow-groups", "load"),
					hdr("x-flyte-identity", strings.Repeat("x", pad)),
				},
				HeadersToRemove: removed,
			}},
			DynamicMetadata: md,
		}
	}
	base := proto.Size(build(0))
	if size < base {
		return nil, fmt.Errorf("--allow-bytes %d: an idgate-shaped allow takes at least %d", size, base)
	}
	// Each enclosing message's length prefix may grow by a byte as the
	// value grows (at 128 and 16,384 bytes).
	for pad := size - base; pad >= 0 && pad >= size-base-12; pad-- {
		if r := build(pad); proto.Size(r) == size {
			return r, nil
		}
	}
	return nil, fmt.Errorf("--allow-bytes %d: no padding gives that size", size)
}
