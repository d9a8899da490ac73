package deploy

import (
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// MustMeshConfig strictly decodes the mesh config of istio/mesh-config.yaml.
func MustMeshConfig(tb testing.TB) *meshv1alpha1.MeshConfig {
	tb.Helper()
	objs := MustDecodeObjects(tb, "istio/mesh-config.yaml")
	cm, ok := objs[0].K8s.(*corev1.ConfigMap)
	if len(objs) != 1 || !ok {
		tb.Fatalf("istio/mesh-config.yaml: want one ConfigMap")
	}
	var mc meshv1alpha1.MeshConfig
	if err := unmarshalProtoYAML([]byte(cm.Data["mesh"]), &mc); err != nil {
		tb.Fatalf("istio/mesh-config.yaml data.mesh: strict decode into MeshConfig: %v", err)
	}
	return &mc
}

// MustHelmMeshConfig strictly decodes values-istiod.yaml's meshConfig.
func MustHelmMeshConfig(tb testing.TB) *meshv1alpha1.MeshConfig {
	tb.Helper()
	var values struct {
		MeshConfig map[string]any `json:"meshConfig"`
	}
	if err := unmarshalStrict(MustReadFile(tb, "istio/values-istiod.yaml"), &values); err != nil {
		tb.Fatalf("istio/values-istiod.yaml: %v", err)
	}
	y, err := yaml.Marshal(values.MeshConfig)
	if err != nil {
		tb.Fatalf("istio/values-istiod.yaml: %v", err)
	}
	var mc meshv1alpha1.MeshConfig
	if err := unmarshalProtoYAML(y, &mc); err != nil {
		tb.Fatalf("istio/values-istiod.yaml meshConfig: strict decode into MeshConfig: %v", err)
	}
	return &mc
}

// istioPolicies returns the AuthorizationPolicies of the istio kustomization.
func istioPolicies(tb testing.TB) map[string]*securityv1beta1.AuthorizationPolicy {
	tb.Helper()
	out := map[string]*securityv1beta1.AuthorizationPolicy{}
	for _, o := range MustBuild(tb, "istio") {
		if ap, ok := o.Istio.(*securityv1beta1.AuthorizationPolicy); ok {
			out[o.Meta.Name] = ap
		}
	}
	return out
}

func TestMeshExtensionProvider(t *testing.T) {
	mc := MustMeshConfig(t)
	if !proto.Equal(mc, MustHelmMeshConfig(t)) {
		t.Errorf("values-istiod.yaml and mesh-config.yaml declare different mesh configs")
	}
	if len(mc.GetExtensionProviders()) != 1 {
		t.Fatalf("want one extension provider, got %d", len(mc.GetExtensionProviders()))
	}
	p := mc.GetExtensionProviders()[0]
	g := p.GetEnvoyExtAuthzGrpc()
	if g == nil {
		t.Fatalf("provider %q is not envoyExtAuthzGrpc", p.GetName())
	}
	if g.GetTimeout() == nil || g.GetTimeout().AsDuration() != extAuthzTimeout {
		t.Errorf("timeout = %v, want explicit %v", g.GetTimeout(), extAuthzTimeout)
	}
	if g.GetFailOpen() {
		t.Errorf("failOpen = true, want false")
	}
	if g.GetIncludeRequestBodyInCheck() != nil {
		t.Errorf("includeRequestBodyInCheck set, want the body never sent")
	}
	// The provider points at the gateway overlay's Service.
	var svcOK bool
	for _, o := range MustBuild(t, "kubernetes/overlays/gateway") {
		svc, ok := o.K8s.(*corev1.Service)
		if !ok || svc.Name+"."+svc.Namespace+".svc.cluster.local" != g.GetService() {
			continue
		}
		for _, port := range svc.Spec.Ports {
			svcOK = svcOK || uint32(port.Port) == g.GetPort()
		}
	}
	if !svcOK {
		t.Errorf("provider %s:%d is not a Service port of the gateway overlay", g.GetService(), g.GetPort())
	}
}

// TestCustomPolicyMatchesEveryRequest: CUSTOM calls idgate only for the
// requests its rules match; an unmatched path would skip header stripping.
func TestCustomPolicyMatchesEveryRequest(t *testing.T) {
	provider := MustMeshConfig(t).GetExtensionProviders()[0].GetName()
	var custom int
	for name, ap := range istioPolicies(t) {
		if ap.GetAction() != securityv1beta1.AuthorizationPolicy_CUSTOM {
			continue
		}
		custom++
		t.Run(name, func(t *testing.T) {
			if got := ap.GetProvider().GetName(); got != provider {
				t.Errorf("provider %q, want the mesh's %q", got, provider)
			}
			if ap.GetSelector() == nil && ap.GetTargetRef() == nil && len(ap.GetTargetRefs()) == 0 {
				t.Errorf("no selector: the policy must target the ingress gateway")
			}
			if !slices.ContainsFunc(ap.GetRules(), ruleMatchesEverything) {
				t.Errorf("no rule matches every request: %v", ap.GetRules())
			}
		})
	}
	if custom == 0 {
		t.Fatalf("no CUSTOM AuthorizationPolicy")
	}
}

// ruleMatchesEverything reports whether a rule has no condition at all, or
// only operations whose paths are a wildcard.
func ruleMatchesEverything(r *securityv1beta1.Rule) bool {
	if len(r.GetFrom()) > 0 || len(r.GetWhen()) > 0 {
		return false
	}
	for _, to := range r.GetTo() {
		op := to.GetOperation()
		wild := len(op.GetPaths()) > 0 && !slices.ContainsFunc(op.GetPaths(), func(p string) bool { return p != "*" && p != "/*" })
		unrestricted := len(op.GetHosts())+len(op.GetNotHosts())+len(op.GetPorts())+len(op.GetNotPorts())+
			len(op.GetMethods())+len(op.GetNotMethods())+len(op.GetNotPaths()) == 0
		if !unrestricted || (len(op.GetPaths()) > 0 && !wild) {
			return false
		}
	}
	return true
}

// TestNoDenyOnIdentityHeaders: no DENY policy keys on an identity header.
// Istio evaluates DENY before ALLOW, so one that refused kubeflow-userid
// from every peer but the gateway broke the calls that carry it
// legitimately (ml-pipeline-ui to ml-pipeline, centraldashboard to KFAM);
// idgate at those workloads decides instead, by the caller's mTLS principal
// (trusted_forwarders).
func TestNoDenyOnIdentityHeaders(t *testing.T) {
	for _, dir := range []string{"istio", "testdata/kubeflow"} {
		for _, o := range MustBuild(t, dir) {
			ap, ok := o.Istio.(*securityv1beta1.AuthorizationPolicy)
			if !ok || ap.GetAction() != securityv1beta1.AuthorizationPolicy_DENY {
				continue
			}
			for _, r := range ap.GetRules() {
				for _, c := range r.GetWhen() {
					if strings.HasPrefix(c.GetKey(), "request.headers[kubeflow-") {
						t.Errorf("%s: DENY %s on %s", dir, o.Meta.Name, c.GetKey())
					}
				}
			}
		}
	}
}

// TestMeshPathNormalization: the gateway decodes and merges slashes before
// authorization and routing, so idgate decides on the backend's path.
func TestMeshPathNormalization(t *testing.T) {
	for name, mc := range map[string]*meshv1alpha1.MeshConfig{"mesh-config.yaml": MustMeshConfig(t), "values-istiod.yaml": MustHelmMeshConfig(t)} {
		if got := mc.GetPathNormalization().GetNormalization(); got != meshv1alpha1.MeshConfig_ProxyPathNormalization_DECODE_AND_MERGE_SLASHES {
			t.Errorf("%s: pathNormalization = %v, want DECODE_AND_MERGE_SLASHES", name, got)
		}
	}
}

// TestIstioRejectsUnderscoreHeaders: an EnvoyFilter of the kustomization, in
// the root namespace and without a workload selector (every proxy), merges
// headers_with_underscores_action: REJECT_REQUEST into every HTTP
// connection manager; its patch decodes strictly into Envoy's own type.
func TestIstioRejectsUnderscoreHeaders(t *testing.T) {
	var found bool
	for _, o := range MustBuild(t, "istio") {
		ef, ok := o.Istio.(*networkingv1alpha3.EnvoyFilter)
		if !ok {
			continue
		}
		if o.Meta.Namespace != "istio-system" || ef.GetWorkloadSelector() != nil || len(ef.GetTargetRefs()) > 0 {
			t.Errorf("EnvoyFilter %s: want mesh-wide (istio-system, no selector)", o.Meta.Name)
		}
		for _, cp := range ef.GetConfigPatches() {
			if cp.GetApplyTo() != networkingv1alpha3.EnvoyFilter_NETWORK_FILTER || cp.GetPatch().GetOperation() != networkingv1alpha3.EnvoyFilter_Patch_MERGE ||
				cp.GetMatch().GetListener().GetFilterChain().GetFilter().GetName() != hcmFilter {
				continue
			}
			if cp.GetMatch().GetContext() != networkingv1alpha3.EnvoyFilter_ANY {
				t.Errorf("EnvoyFilter %s: context %v, want every proxy", o.Meta.Name, cp.GetMatch().GetContext())
			}
			tc := cp.GetPatch().GetValue().GetFields()["typed_config"]
			raw, err := protojson.Marshal(tc)
			if err != nil {
				t.Fatal(err)
			}
			var a anypb.Any
			if err := protojson.Unmarshal(raw, &a); err != nil {
				t.Fatalf("EnvoyFilter %s: typed_config: %v", o.Meta.Name, err)
			}
			var hcm hcmv3.HttpConnectionManager
			MustUnpack(t, &a, &hcm)
			if hcm.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction() == corev3.HttpProtocolOptions_REJECT_REQUEST {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no EnvoyFilter sets headers_with_underscores_action: REJECT_REQUEST on the HTTP connection manager")
	}
}
