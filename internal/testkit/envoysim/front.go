package envoysim

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
)

// Front is a small HTTP proxy that behaves like Envoy with the ext_authz
// filter: it asks Check about every request, sends a denial (or idgate's
// redirect) back to the client as is, and otherwise applies the header
// mutations (sets first, then removals) and forwards to Upstream, adding
// response_headers_to_add to the upstream's response.
type Front struct {
	Check    authv3.AuthorizationClient
	Upstream *url.URL
	// Timeout, when set, is the Check's deadline, as Envoy's
	// grpc_service.timeout (sent to idgate as grpc-timeout); a Check past it
	// fails closed.
	Timeout time.Duration
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var hs []Header
	for name, vs := range r.Header {
		for _, v := range vs {
			hs = append(hs, Header{Name: name, Value: v})
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	m := CheckHeaders(hs)
	m[":authority"], m[":path"], m[":method"], m[":scheme"] = r.Host, r.URL.RequestURI(), r.Method, scheme
	ctx := r.Context()
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	resp, err := f.Check.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Scheme: scheme, Headers: m,
		}},
	}})
	if err != nil { // failure_mode_allow: false
		http.Error(w, "ext_authz failed", http.StatusForbidden)
		return
	}
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		d := resp.GetDeniedResponse()
		var local []Header // Envoy's local reply, honouring each append action
		for _, h := range d.GetHeaders() {
			local = setHeader(local, h)
		}
		for _, h := range local {
			w.Header().Add(h.Name, h.Value)
		}
		status := int(d.GetStatus().GetCode())
		if status == 0 {
			status = http.StatusForbidden
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(d.GetBody()))
		return
	}
	ok := resp.GetOkResponse()
	up := Apply(hs, ok, SetThenRemove)
	r.Header = http.Header{}
	for _, h := range up {
		r.Header.Add(h.Name, h.Value)
	}
	proxy := httputil.NewSingleHostReverseProxy(f.Upstream)
	proxy.ModifyResponse = func(res *http.Response) error {
		var added []Header
		for _, h := range ok.GetResponseHeadersToAdd() {
			added = setHeader(added, h)
		}
		for _, h := range added {
			res.Header.Add(h.Name, h.Value)
		}
		return nil
	}
	proxy.ServeHTTP(w, r)
}
