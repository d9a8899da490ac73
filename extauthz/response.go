package extauthz

import (
	"net/http"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

var okStatus = &status.Status{Code: int32(codes.OK)}

// allowed builds an OK response. Identity headers are overwritten (never
// listed for removal too: Envoy applies headers first and headers_to_remove
// after, so a header in both would reach the upstream missing).
func allowed(res *decision.Result) *authv3.CheckResponse {
	opts := make([]*corev3.HeaderValueOption, len(res.Set))
	for i, h := range res.Set {
		opts[i] = &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}
	}
	var toClient []*corev3.HeaderValueOption
	for _, h := range res.ResponseHeaders {
		toClient = append(toClient, responseHeader(h))
	}
	return &authv3.CheckResponse{
		Status: okStatus,
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers:              opts,
			HeadersToRemove:      res.Remove,
			ResponseHeadersToAdd: toClient,
		}},
		DynamicMetadata: metadata(res),
	}
}

// denied builds a denial; the body is a short, token-free sentence.
func denied(res *decision.Result) *authv3.CheckResponse {
	code := codes.PermissionDenied
	if res.Status == http.StatusUnauthorized {
		code = codes.Unauthenticated
	}
	hs := make([]*corev3.HeaderValueOption, 0, len(res.ResponseHeaders)+1)
	typed := false
	for _, h := range res.ResponseHeaders {
		hs = append(hs, responseHeader(h))
		typed = typed || h.Name == "content-type"
	}
	if !typed {
		hs = append(hs, overwrite(identity.Header{Name: "content-type", Value: "text/plain; charset=utf-8"}))
	}
	body := res.Message
	if body != "" {
		body += "\n"
	}
	return &authv3.CheckResponse{
		Status: &status.Status{Code: int32(code), Message: res.Reason},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(res.Status)},
			Headers: hs,
			Body:    body,
		}},
		DynamicMetadata: metadata(res),
	}
}

// responseHeader: set-cookie may appear several times (session and state
// cookies), so it is appended; every other header is overwritten.
func responseHeader(h identity.Header) *corev3.HeaderValueOption {
	if h.Name == "set-cookie" {
		return &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
		}
	}
	return overwrite(h)
}

func overwrite(h identity.Header) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// metadata exposes the decision to Envoy's access log and later filters
// (under the ext_authz filter's namespace): result, reason, and for a
// verified caller the issuer, subject and degraded enrichment reason.
func metadata(res *decision.Result) *structpb.Struct {
	f := map[string]*structpb.Value{
		"reason": structpb.NewStringValue(res.Reason),
		"route":  structpb.NewStringValue(res.Route),
	}
	if id := res.Identity; id != nil {
		f["issuer"] = structpb.NewStringValue(id.Issuer)
		f["subject"] = structpb.NewStringValue(id.Subject)
		if id.Degraded != "" {
			f["degraded"] = structpb.NewStringValue(id.Degraded)
		}
	}
	if res.Shadow {
		f["shadow_result"] = structpb.NewStringValue(result(res))
	}
	return &structpb.Struct{Fields: f}
}
