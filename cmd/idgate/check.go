package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// headerFlags collects repeated -H 'name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// checkArgs are the request line and headers of one simulated request.
type checkArgs struct {
	method, host, path, scheme string
	headers                    headerFlags
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check")
	addr := fs.String("addr", "127.0.0.1:9001", "ext_authz gRPC address, HOST:PORT")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline for the Check call")
	var ca checkArgs
	fs.StringVar(&ca.method, "method", "GET", "request method")
	fs.StringVar(&ca.host, "host", "localhost", "request host (:authority)")
	fs.StringVar(&ca.path, "path", "/", "request path, with query")
	fs.StringVar(&ca.scheme, "scheme", "http", "request scheme")
	fs.Var(&ca.headers, "H", "request header 'name: value' (repeatable; copies of one name are joined with ',' as Envoy does)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	req, err := ca.request()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, req)
	if err != nil {
		return fmt.Errorf("check %s: %w", *addr, err)
	}
	printResponse(stdout, resp)
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		return errDenied
	}
	return nil
}

// request builds the CheckRequest the way Envoy's ext_authz filter does:
// lower-case header names, pseudo-headers included, copies joined by ",".
func (ca *checkArgs) request() (*authv3.CheckRequest, error) {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	headers := map[string]string{
		":method": ca.method, ":path": ca.path, ":authority": ca.host, ":scheme": ca.scheme,
		"x-request-id": hex.EncodeToString(id),
	}
	for _, h := range ca.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" {
			return nil, fmt.Errorf("check: -H %q: want 'name: value'", h)
		}
		value = strings.TrimSpace(value)
		if prev, dup := headers[name]; dup && !strings.HasPrefix(name, ":") {
			value = prev + "," + value
		}
		headers[name] = value
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:      &authv3.AttributeContext_Peer{Address: socketAddr("127.0.0.1", 50000)},
		Destination: &authv3.AttributeContext_Peer{Address: socketAddr("127.0.0.1", 8000)},
		Request: &authv3.AttributeContext_Request{
			Time: timestamppb.Now(),
			Http: &authv3.AttributeContext_HttpRequest{
				Id: headers["x-request-id"], Method: ca.method, Headers: headers, Path: ca.path,
				Host: ca.host, Scheme: ca.scheme, Protocol: "HTTP/1.1",
			},
		},
	}}, nil
}

func socketAddr(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func printResponse(w io.Writer, resp *authv3.CheckResponse) {
	code := codes.Code(resp.GetStatus().GetCode())
	if code == codes.OK {
		fmt.Fprintf(w, "decision: ALLOW\nstatus: 200\n")
		ok := resp.GetOkResponse()
		for _, h := range ok.GetHeaders() {
			fmt.Fprintf(w, "set: %s: %s (%s)\n", h.GetHeader().GetKey(), h.GetHeader().GetValue(), h.GetAppendAction())
		}
		for _, n := range ok.GetHeadersToRemove() {
			fmt.Fprintf(w, "remove: %s\n", n)
		}
	} else {
		d := resp.GetDeniedResponse()
		fmt.Fprintf(w, "decision: DENY (%s: %s)\nstatus: %d\n", code, resp.GetStatus().GetMessage(), d.GetStatus().GetCode())
		for _, h := range d.GetHeaders() {
			fmt.Fprintf(w, "response-header: %s: %s\n", h.GetHeader().GetKey(), h.GetHeader().GetValue())
		}
		fmt.Fprintf(w, "body: %s\n", strings.TrimSpace(d.GetBody()))
	}
	fields := resp.GetDynamicMetadata().GetFields()
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		fmt.Fprintf(w, "metadata: %s=%s\n", k, fields[k].GetStringValue())
	}
}
