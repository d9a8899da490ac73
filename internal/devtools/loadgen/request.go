package loadgen

import (
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// Target is the HTTP request every CheckRequest describes.
type Target struct {
	// Method, Host and Path are the request line; empty means GET,
	// "localhost" and "/".
	Method, Host, Path string
}

func (t Target) withDefaults() Target {
	if t.Method == "" {
		t.Method = "GET"
	}
	if t.Host == "" {
		t.Host = "localhost"
	}
	if t.Path == "" {
		t.Path = "/"
	}
	return t
}

// NewCheckRequest builds a CheckRequest as Envoy's ext_authz filter sends
// it: lower-case header names with pseudo-headers, peer addresses and a
// request id. token, when not empty, goes in "authorization: Bearer".
func NewCheckRequest(t Target, token string, seq int) *authv3.CheckRequest {
	t = t.withDefaults()
	id := "load-" + strconv.Itoa(seq)
	headers := map[string]string{
		":authority": t.Host, ":method": t.Method, ":path": t.Path, ":scheme": "http",
		"accept": "application/json", "user-agent": "idgate-load", "x-forwarded-proto": "http",
		"x-request-id": id,
	}
	if token != "" {
		headers["authorization"] = "Bearer " + token
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:      &authv3.AttributeContext_Peer{Address: socketAddr("127.0.0.1", 50000)},
		Destination: &authv3.AttributeContext_Peer{Address: socketAddr("127.0.0.1", 8000)},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Id: id, Method: t.Method, Headers: headers, Path: t.Path, Host: t.Host,
			Scheme: "http", Protocol: "HTTP/1.1",
		}},
	}}
}

func socketAddr(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
