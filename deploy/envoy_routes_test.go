package deploy

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// extAuthzDisabled reports whether a route turns the ext_authz check off.
func extAuthzDisabled(tb testing.TB, r *routev3.Route) bool {
	tb.Helper()
	cfg, ok := r.GetTypedPerFilterConfig()[extAuthzFilter]
	if !ok {
		return false
	}
	var per extauthzv3.ExtAuthzPerRoute
	MustUnpack(tb, cfg, &per)
	return per.GetDisabled()
}

func allRoutes(tb testing.TB, path string) []*routev3.Route {
	tb.Helper()
	var routes []*routev3.Route
	for _, hcm := range httpConnectionManagers(tb, MustBootstrap(tb, path)) {
		for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
			routes = append(routes, vh.GetRoutes()...)
		}
	}
	if len(routes) == 0 {
		tb.Fatalf("%s: no routes", path)
	}
	return routes
}

// TestEnvoyHealthRoutesSkipExtAuthz checks the check is disabled on health
// endpoints, and only there: on exact paths, so that no API path can share
// a health route's exemption.
func TestEnvoyHealthRoutesSkipExtAuthz(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			var health int
			for _, r := range allRoutes(t, path) {
				exact := r.GetMatch().GetPath()
				isHealth := exact != "" && strings.Contains(strings.ToLower(exact), "health")
				disabled := extAuthzDisabled(t, r)
				switch {
				case isHealth && !disabled:
					t.Errorf("route %q (%s): ext_authz not disabled on a health endpoint", r.GetName(), exact)
				case disabled && !isHealth:
					t.Errorf("route %q (%v): ext_authz disabled on a route that is not an exact health path", r.GetName(), r.GetMatch())
				case isHealth:
					health++
				}
			}
			if health == 0 {
				t.Errorf("no health route with ext_authz disabled")
			}
		})
	}
}

// TestEnvoyRunsServiceRoutes checks the runs service's gRPC and HTTP APIs
// are routed to a defined cluster, gRPC without a route timeout (streams).
func TestEnvoyRunsServiceRoutes(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			clusters := clustersByName(MustBootstrap(t, path))
			var grpc, catchAll bool
			for _, r := range allRoutes(t, path) {
				ra := r.GetRoute()
				if ra == nil {
					t.Errorf("route %q is not a forwarding route", r.GetName())
					continue
				}
				if !clusters[ra.GetCluster()] {
					t.Errorf("route %q: cluster %q not defined", r.GetName(), ra.GetCluster())
				}
				m := r.GetMatch()
				if m.GetGrpc() != nil && strings.HasPrefix(m.GetPrefix(), "/flyteidl2.") {
					grpc = true
					if ra.GetTimeout() == nil || ra.GetTimeout().AsDuration() != 0 {
						t.Errorf("gRPC route %q: timeout %v, want 0s (server streams)", r.GetName(), ra.GetTimeout())
					}
				}
				if m.GetPrefix() == "/" && m.GetGrpc() == nil && len(m.GetHeaders()) == 0 {
					catchAll = true
				}
			}
			if !grpc {
				t.Errorf("no gRPC route for the runs service (/flyteidl2.*)")
			}
			if !catchAll {
				t.Errorf("no catch-all HTTP route")
			}
		})
	}
}

// TestEnvoyNormalizesPathsBeforeAuthz checks path canonicalisation is on, so
// a dot-segment path cannot match a health route and skip the check, and
// an encoded slash never reaches idgate or the upstream.
func TestEnvoyNormalizesPathsBeforeAuthz(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			for _, hcm := range httpConnectionManagers(t, MustBootstrap(t, path)) {
				if !hcm.GetNormalizePath().GetValue() || !hcm.GetMergeSlashes() {
					t.Errorf("HCM %q: normalize_path and merge_slashes must be on", hcm.GetStatPrefix())
				}
				switch a := hcm.GetPathWithEscapedSlashesAction(); a {
				case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT, hcmv3.HttpConnectionManager_REJECT_REQUEST:
				default:
					t.Errorf("HCM %q: path_with_escaped_slashes_action = %v, want UNESCAPE_AND_REDIRECT or REJECT_REQUEST", hcm.GetStatPrefix(), a)
				}
			}
		})
	}
}

// TestEnvoyRejectsUnderscoreHeaders: WSGI and CGI upstreams read
// kubeflow_userid as kubeflow-userid, so Envoy refuses such names.
func TestEnvoyRejectsUnderscoreHeaders(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			for _, hcm := range httpConnectionManagers(t, MustBootstrap(t, path)) {
				if got := hcm.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction(); got != corev3.HttpProtocolOptions_REJECT_REQUEST {
					t.Errorf("HCM %q: headers_with_underscores_action = %v, want REJECT_REQUEST", hcm.GetStatPrefix(), got)
				}
			}
		})
	}
}

// TestSidecarEnvoyIsTheEnvoyShape keeps the kustomize copy identical to the
// source of truth in deploy/envoy.
func TestSidecarEnvoyIsTheEnvoyShape(t *testing.T) {
	want := MustReadFile(t, "envoy/envoy.yaml")
	got := MustReadFile(t, "kubernetes/overlays/sidecar/envoy.yaml")
	if !sameBytes(want, got) {
		t.Errorf("kubernetes/overlays/sidecar/envoy.yaml differs from envoy/envoy.yaml: cp envoy/envoy.yaml kubernetes/overlays/sidecar/envoy.yaml")
	}
}
