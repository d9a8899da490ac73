package deploy

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	securityv1beta1 "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// kubeflowBuild is deploy/kubeflow applied on top of the stand-in for
// kubeflow/manifests in testdata/kubeflow, as an admin's kustomization does.
type kubeflowBuild struct {
	objs     []Object
	policies map[string]*securityv1beta1.AuthorizationPolicy // by namespace/name
}

func mustKubeflowBuild(t *testing.T) *kubeflowBuild {
	t.Helper()
	b := &kubeflowBuild{objs: MustBuild(t, "testdata/kubeflow"), policies: map[string]*securityv1beta1.AuthorizationPolicy{}}
	for _, o := range b.objs {
		if ap, ok := o.Istio.(*securityv1beta1.AuthorizationPolicy); ok {
			b.policies[o.Meta.Namespace+"/"+o.Meta.Name] = ap
		}
	}
	return b
}

func (b *kubeflowBuild) configMap(t *testing.T, ns, prefix string) *corev1.ConfigMap {
	t.Helper()
	for _, cm := range find[corev1.ConfigMap](b.objs) {
		if cm.Namespace == ns && strings.HasPrefix(cm.Name, prefix) {
			return cm
		}
	}
	t.Fatalf("no ConfigMap %s/%s* in the build", ns, prefix)
	return nil
}

// mesh strictly decodes the patched mesh config of the istio ConfigMap.
func (b *kubeflowBuild) mesh(t *testing.T) *meshv1alpha1.MeshConfig {
	t.Helper()
	var mc meshv1alpha1.MeshConfig
	if err := unmarshalProtoYAML([]byte(b.configMap(t, "istio-system", "istio").Data["mesh"]), &mc); err != nil {
		t.Fatalf("istio ConfigMap mesh: strict decode into MeshConfig: %v", err)
	}
	return &mc
}

// TestKubeflowComponentFiles: every file of the component decodes strictly
// (kustomizations into kustomize's type, objects into their API types).
func TestKubeflowComponentFiles(t *testing.T) {
	for _, rel := range MustYAMLFiles(t, "kubeflow") {
		p := path.Join("kubeflow", rel)
		t.Run(p, func(t *testing.T) {
			switch {
			case p == "kubeflow/config.yaml":
				// idgate configuration: loaded by config.TestKubeflowDeployConfigLoads.
			case path.Base(p) == "kustomization.yaml":
				MustKustomization(t, p)
			case strings.HasPrefix(p, "kubeflow/patches/delete-"):
				// $patch: delete directives: the build proves they matched.
			default:
				MustDecodeObjects(t, p)
			}
		})
	}
	if k := MustKustomization(t, "kubeflow/kustomization.yaml"); k.Kind != "Component" {
		t.Fatalf("kind %q, want Component (applied on top of kubeflow/manifests)", k.Kind)
	}
}

// TestKubeflowReplacesOAuth2Proxy: oauth2-proxy's provider, policies,
// RequestAuthentication and Deployment are gone; idgate is the mesh's only
// extension provider and every CUSTOM policy names it.
func TestKubeflowReplacesOAuth2Proxy(t *testing.T) {
	b := mustKubeflowBuild(t) // a RequestAuthentication or VirtualService left would not decode
	for _, d := range find[appsv1.Deployment](b.objs) {
		if d.Name == "oauth2-proxy" {
			t.Error("oauth2-proxy Deployment still in the build")
		}
	}
	for _, name := range []string{"istio-system/istio-ingressgateway-oauth2-proxy", "istio-system/istio-ingressgateway-require-jwt"} {
		if b.policies[name] != nil {
			t.Errorf("AuthorizationPolicy %s still in the build", name)
		}
	}
	mc := b.mesh(t)
	if len(mc.GetExtensionProviders()) != 1 {
		t.Fatalf("extension providers: %v, want idgate's only", mc.GetExtensionProviders())
	}
	p := mc.GetExtensionProviders()[0]
	g := p.GetEnvoyExtAuthzGrpc()
	if g == nil || g.GetFailOpen() || g.GetTimeout().AsDuration() != extAuthzTimeout || g.GetIncludeRequestBodyInCheck() != nil {
		t.Fatalf("provider %q: %v", p.GetName(), g)
	}
	if mc.GetPathNormalization().GetNormalization() != meshv1alpha1.MeshConfig_ProxyPathNormalization_DECODE_AND_MERGE_SLASHES {
		t.Errorf("pathNormalization = %v", mc.GetPathNormalization())
	}
	var svcOK bool
	for _, svc := range find[corev1.Service](b.objs) {
		if svc.Name+"."+svc.Namespace+".svc.cluster.local" == g.GetService() {
			svcOK = slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return uint32(sp.Port) == g.GetPort() })
		}
	}
	if !svcOK {
		t.Errorf("provider %s:%d is not a Service port in the build", g.GetService(), g.GetPort())
	}
	var custom int
	for name, ap := range b.policies {
		if ap.GetAction() == securityv1beta1.AuthorizationPolicy_CUSTOM {
			custom++
			if ap.GetProvider().GetName() != p.GetName() {
				t.Errorf("%s: provider %q, want %q", name, ap.GetProvider().GetName(), p.GetName())
			}
		}
	}
	if custom != 3 {
		t.Errorf("%d CUSTOM policies, want 3 (gateway, ml-pipeline, kfam)", custom)
	}
	gw := b.policies["istio-system/idgate-ext-authz"]
	if gw == nil || gw.GetSelector().GetMatchLabels()["app"] != "istio-ingressgateway" || !slices.ContainsFunc(gw.GetRules(), ruleMatchesEverything) {
		t.Errorf("gateway policy does not check every request at the ingress gateway: %v", gw)
	}
}

// TestKubeflowWorkloadPolicies: the CUSTOM policies select the upstream
// ml-pipeline and kfam workloads (labels as kubeflow/manifests sets them),
// on exactly their Services' ports, every path and method; KFP's own ALLOW
// policy admits any mTLS peer and no plaintext one.
func TestKubeflowWorkloadPolicies(t *testing.T) {
	b := mustKubeflowBuild(t)
	tests := []struct {
		policy, service, deployment string
	}{
		{"kubeflow/ml-pipeline-idgate", "ml-pipeline", "ml-pipeline"},
		{"kubeflow/profiles-kfam-idgate", "profiles-kfam", ""},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			ap := b.policies[tc.policy]
			if ap == nil || ap.GetAction() != securityv1beta1.AuthorizationPolicy_CUSTOM {
				t.Fatalf("no CUSTOM policy %s", tc.policy)
			}
			sel := labels.SelectorFromSet(ap.GetSelector().GetMatchLabels())
			var svc *corev1.Service
			for _, s := range find[corev1.Service](b.objs) {
				if s.Namespace == "kubeflow" && s.Name == tc.service {
					svc = s
				}
			}
			if svc == nil || len(ap.GetSelector().GetMatchLabels()) == 0 || !sel.Matches(labels.Set(svc.Spec.Selector)) {
				t.Fatalf("selector %v does not select the pods of Service %s", ap.GetSelector(), tc.service)
			}
			if tc.deployment != "" {
				var matched bool
				for _, d := range find[appsv1.Deployment](b.objs) {
					matched = matched || d.Name == tc.deployment && sel.Matches(labels.Set(d.Spec.Template.Labels))
				}
				if !matched {
					t.Errorf("selector %v does not match Deployment %s's pods", ap.GetSelector(), tc.deployment)
				}
			}
			var want []string
			for _, sp := range svc.Spec.Ports {
				port := sp.TargetPort.IntVal // the container port the sidecar sees
				if port == 0 {
					port = sp.Port
				}
				want = append(want, strconv.Itoa(int(port)))
			}
			slices.Sort(want)
			if len(ap.GetRules()) != 1 || len(ap.GetRules()[0].GetFrom())+len(ap.GetRules()[0].GetWhen()) != 0 || len(ap.GetRules()[0].GetTo()) != 1 {
				t.Fatalf("want one rule with one operation and no source or condition: %v", ap.GetRules())
			}
			op := ap.GetRules()[0].GetTo()[0].GetOperation()
			got := slices.Sorted(slices.Values(op.GetPorts()))
			if !slices.Equal(got, want) {
				t.Errorf("ports %v, want the Service's %v", got, want)
			}
			if len(op.GetPaths())+len(op.GetNotPaths())+len(op.GetMethods())+len(op.GetNotMethods())+len(op.GetHosts())+len(op.GetNotHosts())+len(op.GetNotPorts()) != 0 {
				t.Errorf("the rule leaves requests out: %v", op)
			}
		})
	}
	allow := b.policies["kubeflow/ml-pipeline"]
	if allow == nil || allow.GetAction() != securityv1beta1.AuthorizationPolicy_ALLOW || len(allow.GetRules()) != 1 ||
		!slices.Equal(allow.GetRules()[0].GetFrom()[0].GetSource().GetPrincipals(), []string{"*"}) || len(allow.GetRules()[0].GetWhen()) != 0 {
		t.Errorf("KFP's ml-pipeline ALLOW policy: %v, want one rule admitting any mTLS peer", allow)
	}
}

// TestKubeflowIdgateWiring: the idgate config in the build is
// kubeflow/config.yaml, mounted by idgate; its forwarders name KFP's and the
// dashboard's service accounts in the mesh's trust domain; it writes the
// user header and prefix KFP's API server reads; Dex accepts its redirect
// URI and admits its pods.
func TestKubeflowIdgateWiring(t *testing.T) {
	b := mustKubeflowBuild(t)
	cm := b.configMap(t, "idgate", "idgate-config")
	if !sameBytes([]byte(cm.Data["config.yaml"]), MustReadFile(t, "kubeflow/config.yaml")) {
		t.Fatal("the idgate ConfigMap is not kubeflow/config.yaml")
	}
	var idg *appsv1.Deployment
	for _, d := range find[appsv1.Deployment](b.objs) {
		if d.Name == "idgate" {
			idg = d
		}
	}
	if idg == nil || !slices.ContainsFunc(idg.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
		return v.ConfigMap != nil && v.ConfigMap.Name == cm.Name
	}) {
		t.Fatalf("idgate does not mount ConfigMap %s", cm.Name)
	}
	var cfg struct {
		Issuers []struct {
			Issuer    string   `json:"issuer"`
			Audiences []string `json:"audiences"`
		} `json:"issuers"`
		TrustedForwarders []struct {
			Principal string   `json:"principal"`
			Headers   []string `json:"headers"`
		} `json:"trusted_forwarders"`
		Login struct {
			Issuer   string `json:"issuer"`
			ClientID string `json:"client_id"`
		} `json:"login"`
		Outputs struct {
			Kubeflow struct {
				UseridHeader string `json:"userid_header"`
				UseridPrefix string `json:"userid_prefix"`
			} `json:"kubeflow"`
		} `json:"outputs"`
	}
	if err := unmarshalLoose([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	trust := b.mesh(t).GetTrustDomain()
	var principals []string
	for _, f := range cfg.TrustedForwarders {
		principals = append(principals, f.Principal)
		if !slices.Equal(f.Headers, []string{"kubeflow-userid"}) {
			t.Errorf("%s forwards %v, want kubeflow-userid only", f.Principal, f.Headers)
		}
	}
	want := []string{fmt.Sprintf("spiffe://%s/ns/kubeflow/sa/ml-pipeline-ui", trust), fmt.Sprintf("spiffe://%s/ns/kubeflow/sa/centraldashboard", trust)}
	if !slices.Equal(principals, want) {
		t.Errorf("trusted forwarders %v, want %v", principals, want)
	}
	// KFP's API server reads the user from the header and strips the prefix
	// its multi-user install sets: idgate must write exactly those.
	var kfpEnv map[string]string
	for _, d := range find[appsv1.Deployment](b.objs) {
		for _, c := range d.Spec.Template.Spec.Containers {
			if d.Namespace == "kubeflow" && d.Name == "ml-pipeline" && c.Name == "ml-pipeline-api-server" {
				kfpEnv = map[string]string{}
				for _, e := range c.Env {
					kfpEnv[e.Name] = e.Value
				}
			}
		}
	}
	if h, ok := kfpEnv["KUBEFLOW_USERID_HEADER"]; !ok || h != cfg.Outputs.Kubeflow.UseridHeader {
		t.Errorf("idgate writes the user to %q, KFP reads it from %q", cfg.Outputs.Kubeflow.UseridHeader, h)
	}
	if p, ok := kfpEnv["KUBEFLOW_USERID_PREFIX"]; !ok || p != cfg.Outputs.Kubeflow.UseridPrefix {
		t.Errorf("idgate prefixes the user with %q, KFP strips %q", cfg.Outputs.Kubeflow.UseridPrefix, p)
	}
	var sa bool
	for _, is := range cfg.Issuers {
		sa = sa || slices.Contains(is.Audiences, "pipelines.kubeflow.org")
	}
	if !sa {
		t.Error("no issuer accepts KFP's projected-token audience pipelines.kubeflow.org")
	}
	dex := b.configMap(t, "auth", "dex").Data["config.yaml"]
	if !strings.Contains(dex, "issuer: "+cfg.Login.Issuer+"\n") || !strings.Contains(dex, `"http://localhost:8080/oauth2/callback"`) {
		t.Errorf("Dex's config does not match idgate's login issuer %s or lacks its redirect URI:\n%s", cfg.Login.Issuer, dex)
	}
	var admitted bool
	for _, np := range find[networkingv1.NetworkPolicy](b.objs) {
		if np.Namespace != "auth" {
			continue
		}
		for _, in := range np.Spec.Ingress {
			for _, from := range in.From {
				ns := labels.SelectorFromSet(from.NamespaceSelector.MatchLabels)
				pod := labels.SelectorFromSet(from.PodSelector.MatchLabels)
				admitted = admitted || ns.Matches(labels.Set{"kubernetes.io/metadata.name": idg.Namespace}) && pod.Matches(labels.Set(idg.Spec.Template.Labels))
			}
		}
	}
	if !admitted {
		t.Error("Dex's NetworkPolicy does not admit idgate's pods")
	}
	if d := extAuthzTimeout; d < 3*time.Second {
		t.Errorf("ext_authz timeout %v below a login callback's bound", d)
	}
}
