package deploy

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	// Extensions referenced by typed_config in the shapes: imported so that
	// their Any types resolve. A new extension in a YAML file fails the test
	// until its package is imported here.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
)

const (
	extAuthzFilter = "envoy.filters.http.ext_authz"
	hcmFilter      = "envoy.filters.network.http_connection_manager"
	// extAuthzTimeout covers idgate's slowest Check, a login callback:
	// login.token_timeout (2s) + tokens.key_wait (1s) + a session write
	// (100ms) + slack. Envoy's 200ms default would cut it off, and the
	// callback of a 1s token endpoint with it (cmd/idgate's
	// TestLoginCallbackWithinShippedTimeout runs that against this file).
	extAuthzTimeout = 3500 * time.Millisecond
)

// envoyFiles are every Envoy bootstrap in deploy/, relative to deploy/.
func envoyFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("envoy/*.yaml")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no Envoy YAML under envoy/: %v", err)
	}
	return append(files, "kubernetes/overlays/sidecar/envoy.yaml")
}

// MustBootstrap strictly decodes and deeply validates an Envoy bootstrap.
func MustBootstrap(tb testing.TB, path string) *bootstrapv3.Bootstrap {
	tb.Helper()
	return MustBootstrapYAML(tb, path, MustReadFile(tb, path))
}

// MustBootstrapYAML is [MustBootstrap] for YAML already read, named name.
func MustBootstrapYAML(tb testing.TB, name string, data []byte) *bootstrapv3.Bootstrap {
	tb.Helper()
	var b bootstrapv3.Bootstrap
	if err := unmarshalProtoYAML(data, &b); err != nil {
		tb.Fatalf("%s: strict decode into bootstrap/v3: %v", name, err)
	}
	if err := validateDeep(&b); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return &b
}

// validator is what protoc-gen-validate generates on every message.
type validator interface{ ValidateAll() error }

// validateDeep runs ValidateAll on m and on the message inside every Any
// beneath it (PGV does not look inside Any), failing on an Any whose type is
// not linked in.
func validateDeep(m proto.Message) error {
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s: %w", m.ProtoReflect().Descriptor().FullName(), err)
		}
	}
	return walkAnys(m.ProtoReflect())
}

func walkAnys(m protoreflect.Message) error {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("typed_config %s: %w", a.GetTypeUrl(), err)
		}
		return validateDeep(inner)
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = walkAnys(v.List().Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					err = walkAnys(mv.Message())
					return err == nil
				})
			}
		default:
			err = walkAnys(v.Message())
		}
		return err == nil
	})
	return err
}

// MustUnpack unpacks an Any into m or fails the test.
func MustUnpack(tb testing.TB, a *anypb.Any, m proto.Message) {
	tb.Helper()
	if a == nil {
		tb.Fatalf("missing typed_config for %T", m)
	}
	if err := a.UnmarshalTo(m); err != nil {
		tb.Fatalf("typed_config %s into %T: %v", a.GetTypeUrl(), m, err)
	}
}

// httpConnectionManagers returns every HCM of the bootstrap's listeners.
func httpConnectionManagers(tb testing.TB, b *bootstrapv3.Bootstrap) []*hcmv3.HttpConnectionManager {
	tb.Helper()
	var out []*hcmv3.HttpConnectionManager
	for _, l := range b.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				if f.GetName() != hcmFilter {
					continue
				}
				var hcm hcmv3.HttpConnectionManager
				MustUnpack(tb, f.GetTypedConfig(), &hcm)
				out = append(out, &hcm)
			}
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no %s in any listener", hcmFilter)
	}
	return out
}

// extAuthzOf returns the HCM's ext_authz filter config, requiring it to run
// before the router.
func extAuthzOf(tb testing.TB, hcm *hcmv3.HttpConnectionManager) *extauthzv3.ExtAuthz {
	tb.Helper()
	filters := hcm.GetHttpFilters()
	for i, f := range filters {
		if f.GetName() != extAuthzFilter {
			continue
		}
		if i == len(filters)-1 {
			tb.Fatalf("%s is the last HTTP filter; it must run before the router", extAuthzFilter)
		}
		var ea extauthzv3.ExtAuthz
		MustUnpack(tb, f.GetTypedConfig(), &ea)
		return &ea
	}
	tb.Fatalf("HCM %q has no %s filter", hcm.GetStatPrefix(), extAuthzFilter)
	return nil
}

func clustersByName(b *bootstrapv3.Bootstrap) map[string]bool {
	names := map[string]bool{}
	for _, c := range b.GetStaticResources().GetClusters() {
		names[c.GetName()] = true
	}
	return names
}

func TestEnvoyBootstrapsDecodeStrictly(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			MustBootstrap(t, path)
		})
	}
}

func TestEnvoyExtAuthzFilter(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			b := MustBootstrap(t, path)
			clusters := clustersByName(b)
			for _, hcm := range httpConnectionManagers(t, b) {
				ea := extAuthzOf(t, hcm)
				if got := ea.GetTransportApiVersion(); got != corev3.ApiVersion_V3 {
					t.Errorf("transport_api_version = %v, want V3", got)
				}
				if ea.GetFailureModeAllow() {
					t.Errorf("failure_mode_allow = true, want false (fail closed)")
				}
				if ea.GetIncludePeerCertificate() {
					t.Errorf("include_peer_certificate = true, want off")
				}
				if ea.GetWithRequestBody() != nil {
					t.Errorf("with_request_body is set, want off")
				}
				gs := ea.GetGrpcService()
				if gs == nil {
					t.Fatalf("ext_authz is not a gRPC service")
				}
				if gs.GetTimeout() == nil {
					t.Fatalf("grpc_service.timeout unset: Envoy's 200ms default applies")
				}
				if got := gs.GetTimeout().AsDuration(); got != extAuthzTimeout {
					t.Errorf("grpc_service.timeout = %v, want %v", got, extAuthzTimeout)
				}
				name := gs.GetEnvoyGrpc().GetClusterName()
				if !clusters[name] {
					t.Errorf("ext_authz cluster %q is not defined; clusters: %v", name, clusters)
				}
			}
		})
	}
}

// TestEnvoyIdgateClusterSpeaksHTTP2 checks the cluster ext_authz points at
// is the loopback sidecar and uses HTTP/2, which gRPC requires.
func TestEnvoyIdgateClusterSpeaksHTTP2(t *testing.T) {
	for _, path := range envoyFiles(t) {
		t.Run(path, func(t *testing.T) {
			b := MustBootstrap(t, path)
			name := extAuthzOf(t, httpConnectionManagers(t, b)[0]).GetGrpcService().GetEnvoyGrpc().GetClusterName()
			for _, c := range b.GetStaticResources().GetClusters() {
				if c.GetName() != name {
					continue
				}
				var opts httpv3.HttpProtocolOptions
				MustUnpack(t, c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"], &opts)
				if opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
					t.Errorf("cluster %q: not explicitly HTTP/2", name)
				}
				for _, le := range c.GetLoadAssignment().GetEndpoints() {
					for _, ep := range le.GetLbEndpoints() {
						sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
						if sa.GetAddress() != "127.0.0.1" || sa.GetPortValue() != 9001 {
							t.Errorf("cluster %q endpoint %s:%d, want the sidecar at 127.0.0.1:9001", name, sa.GetAddress(), sa.GetPortValue())
						}
					}
				}
			}
		})
	}
}
