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
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/cache"
)

// Static parts of responses, built once and shared: gRPC only reads a
// response while marshalling it, so one message may sit in many responses.
var (
	okStatus    = &status.Status{Code: int32(codes.OK)}
	contentType = overwrite(identity.Header{Name: "content-type", Value: "text/plain; charset=utf-8"})
)

// inlineHeaders is how many header mutations an allow carries without a
// second allocation (user id, groups, x-flyte-identity).
const inlineHeaders = 3

// okBlock is every message of a typical allow, allocated together: one
// allocation instead of two per header plus four.
type okBlock struct {
	resp  authv3.CheckResponse
	oneof authv3.CheckResponse_OkResponse
	ok    authv3.OkHttpResponse
	opts  [inlineHeaders]corev3.HeaderValueOption
	vals  [inlineHeaders]corev3.HeaderValue
	ptrs  [inlineHeaders]*corev3.HeaderValueOption
	md    [inlineMetadata]byte // the encoded dynamic_metadata, usually
}

// inlineMetadata is room for a typical allow's encoded dynamic metadata
// (reason, route, issuer, subject) inside okBlock.
const inlineMetadata = 192

// allowed builds an OK response. Identity headers are overwritten (never
// listed for removal too: Envoy applies headers first and headers_to_remove
// after, so a header in both would reach the upstream missing).
func allowed(c *responseCaches, res *decision.Result) *authv3.CheckResponse {
	b := &okBlock{}
	var opts []*corev3.HeaderValueOption
	if n := len(res.Set); n <= inlineHeaders {
		opts = b.ptrs[:n]
		for i, h := range res.Set {
			b.vals[i].Key, b.vals[i].Value = h.Name, h.Value
			b.opts[i].Header, b.opts[i].AppendAction = &b.vals[i], corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			opts[i] = &b.opts[i]
		}
	} else {
		opts = make([]*corev3.HeaderValueOption, n)
		for i, h := range res.Set {
			opts[i] = overwrite(h)
		}
	}
	b.ok.Headers, b.ok.HeadersToRemove = opts, res.Remove
	for _, h := range res.ResponseHeaders { // set-cookie of a refreshed or ended session
		b.ok.ResponseHeadersToAdd = append(b.ok.ResponseHeadersToAdd, responseHeader(h))
	}
	b.oneof.OkResponse = &b.ok
	b.resp.Status, b.resp.HttpResponse = okStatus, &b.oneof
	b.resp.ProtoReflect().SetUnknown(c.metadata(b.md[:0], res)) // dynamic_metadata, pre-encoded
	return &b.resp
}

// denied builds a denial; the body is a short, token-free sentence.
func denied(c *responseCaches, res *decision.Result) *authv3.CheckResponse {
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
	if !typed { // login pages bring their own (text/html)
		hs = append(hs, contentType)
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
		DynamicMetadata: c.fillMetadata(&structpb.Struct{}, res),
	}
}

// responseHeader: set-cookie may appear several times (the session cookie
// and the cleared login-state cookie), so it is appended; every other
// header is overwritten.
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

// fillMetadata exposes the decision to Envoy's access log and later filters
// (under the ext_authz filter's namespace): result, reason, and for a
// verified caller the issuer, subject and degraded enrichment reason. Values
// from a bounded set (reasons, routes, issuers) are shared, not rebuilt.
func (c *responseCaches) fillMetadata(md *structpb.Struct, res *decision.Result) *structpb.Struct {
	f := make(map[string]*structpb.Value, 6)
	f["reason"] = c.values.value(res.Reason)
	f["route"] = c.values.value(res.Route)
	if id := res.Identity; id != nil {
		f["issuer"] = c.values.value(id.Issuer)
		f["subject"] = structpb.NewStringValue(id.Subject)
		if id.Degraded != "" {
			f["degraded"] = c.values.value(id.Degraded)
		}
	}
	if res.Shadow {
		f["shadow_result"] = c.values.value(decisionlog.Result(res))
	}
	md.Fields = f
	return md
}

// maxInterned bounds the shared metadata values; past it (a config with
// very many routes) values are built per response.
const maxInterned = 512

// valueCache shares immutable string Values; reads take no lock.
type valueCache struct {
	c *cache.ReadMostly[string, *structpb.Value]
}

func (c *valueCache) value(s string) *structpb.Value {
	if v, ok := c.c.Get(s); ok {
		return v
	}
	return c.c.GetOrAdd(s, func() *structpb.Value { return structpb.NewStringValue(s) })
}
