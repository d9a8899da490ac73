package extauthz

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/decidertest"
	"github.com/idgate/idgate/internal/testkit/promtest"
)

const uiPrincipal = "spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline-ui"

// TestTranslatePrincipalAndCopies: the peer is source.principal, never a
// header; copies of a header are reported whenever the CheckRequest shows
// them (header_map, or names differing in case).
func TestTranslatePrincipalAndCopies(t *testing.T) {
	httpReq := func(h *authv3.AttributeContext_HttpRequest, principal string) *authv3.CheckRequest {
		h.Method, h.Path, h.Host = "GET", "/", "h"
		r := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: h}}}
		if principal != "" {
			r.Attributes.Source = &authv3.AttributeContext_Peer{Principal: principal}
		}
		return r
	}
	tests := []struct {
		name          string
		req           *authv3.CheckRequest
		wantPrincipal string
		wantRepeated  []string
	}{
		{"mTLS peer", httpReq(&authv3.AttributeContext_HttpRequest{Headers: map[string]string{"kubeflow-userid": "a"}}, uiPrincipal), uiPrincipal, nil},
		{"plaintext peer with an XFCC header", httpReq(&authv3.AttributeContext_HttpRequest{Headers: map[string]string{
			"x-forwarded-client-cert": "By=spiffe://x;URI=" + uiPrincipal}}, ""), "", nil},
		{"copies in two cases", httpReq(&authv3.AttributeContext_HttpRequest{Headers: map[string]string{
			"kubeflow-userid": "a", "Kubeflow-Userid": "b"}}, uiPrincipal), uiPrincipal, []string{"kubeflow-userid"}},
		{"copies in header_map", httpReq(&authv3.AttributeContext_HttpRequest{HeaderMap: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: "kubeflow-groups", Value: "a"}, {Key: "kubeflow-groups", RawValue: []byte("b")}, {Key: "accept", Value: "*/*"}}}}, uiPrincipal),
			uiPrincipal, []string{"kubeflow-groups"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Translate(tc.req)
			if !ok {
				t.Fatal("not translated")
			}
			if got.Principal != tc.wantPrincipal || !slices.Equal(got.Repeated, tc.wantRepeated) {
				t.Fatalf("principal %q repeated %v, want %q %v", got.Principal, got.Repeated, tc.wantPrincipal, tc.wantRepeated)
			}
		})
	}
}

// TestForwardedMetricAndLog: a decision on forwarded headers counts under
// its principal (exported at zero from the start) and names it in the log.
func TestForwardedMetricAndLog(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	_, s := newServer(t, decidertest.Fixed{}, decisionlog.Config{Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.Preset(decisionlog.Labels{Forwarders: []string{uiPrincipal}})
	if n, err := testutil.GatherAndCount(reg, "idgate_forwarded_total"); err != nil || n != 1 {
		t.Fatalf("forwarded_total series before any request: %d, want 1", n)
	}
	res := decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "forwarded"}, Forwarder: uiPrincipal,
		Identity: &identity.Identity{Subject: "alice@example.com", UserClaim: "sub", Source: identity.SourceForwarded}}
	s.Observe(context.Background(), &decision.Request{ID: "r1"}, &res, time.Now())
	if got := promtest.Value(t, reg, "idgate_forwarded_total"); got != 1 {
		t.Fatalf("idgate_forwarded_total{principal=%q} = %v, want 1", uiPrincipal, got)
	}
	if !strings.Contains(logs.String(), `"forwarder":"`+uiPrincipal+`"`) || !strings.Contains(logs.String(), `"reason":"forwarded"`) {
		t.Fatalf("log line: %s", logs.String())
	}
}
