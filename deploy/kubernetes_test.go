package deploy

import (
	"path"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// notManifests are YAML files under kubernetes/ and istio/ that are not
// Kubernetes objects; each is checked by its own test.
var notManifests = map[string]string{
	"kubernetes/base/config.yaml":                    "idgate configuration",
	"kubernetes/overlays/sidecar/envoy.yaml":         "Envoy bootstrap",
	"kubernetes/overlays/sidecar/service-patch.yaml": "JSON 6902 patch, checked by the build",
	"istio/values-istiod.yaml":                       "Helm values, checked by the Istio tests",
}

// MustBuild runs kustomize on a folder on disk and strictly decodes every
// resource it produces.
func MustBuild(tb testing.TB, dir string) []Object {
	tb.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		tb.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []Object
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			tb.Fatalf("%s: %s as YAML: %v", dir, r.CurId(), err)
		}
		o, err := decodeObject(y)
		if err != nil {
			tb.Fatalf("%s: built %s: %v", dir, r.CurId(), err)
		}
		objs = append(objs, o)
	}
	return objs
}

// find returns the built objects of one kind.
func find[T any](objs []Object) []*T {
	var out []*T
	for _, o := range objs {
		if t, ok := o.K8s.(*T); ok {
			out = append(out, t)
		}
	}
	return out
}

// findOne returns the one built object of a kind, failing tb unless there
// is exactly one; kind names it in the failure.
func findOne[T any](tb testing.TB, objs []Object, kind string) *T {
	tb.Helper()
	found := find[T](objs)
	if len(found) != 1 {
		tb.Fatalf("want one %s, got %d", kind, len(found))
	}
	return found[0]
}

func TestManifestsDecodeStrictly(t *testing.T) {
	for _, dir := range []string{"kubernetes", "istio"} {
		for _, rel := range MustYAMLFiles(t, dir) {
			p := path.Join(dir, rel)
			t.Run(p, func(t *testing.T) {
				switch {
				case notManifests[p] != "":
					// Checked elsewhere.
				case path.Base(p) == "kustomization.yaml":
					MustKustomization(t, p)
				default:
					MustDecodeObjects(t, p)
				}
			})
		}
	}
}

var overlays = []string{"kubernetes/overlays/gateway", "kubernetes/overlays/sidecar", "istio", "kubernetes/examples/kubernetes-issuer", "istio/flyte"}

func TestKustomizeBuilds(t *testing.T) {
	for _, dir := range overlays {
		t.Run(dir, func(t *testing.T) {
			if objs := MustBuild(t, dir); len(objs) == 0 {
				t.Fatalf("built nothing")
			}
		})
	}
}

func TestSidecarOverlayPodHoldsAppEnvoyAndIdgate(t *testing.T) {
	objs := MustBuild(t, "kubernetes/overlays/sidecar")
	deps := find[appsv1.Deployment](objs)
	var pod *corev1.PodSpec
	for _, d := range deps {
		if d.Name == "flyte-runs" {
			pod = &d.Spec.Template.Spec
		}
	}
	if pod == nil {
		t.Fatalf("no flyte-runs Deployment in the sidecar overlay")
	}
	var names []string
	for _, c := range pod.Containers {
		names = append(names, c.Name)
	}
	for _, want := range []string{"runs", "envoy", "idgate"} {
		if !slices.Contains(names, want) {
			t.Errorf("sidecar pod containers %v: missing %q", names, want)
		}
	}
	var envoyCM *corev1.ConfigMap
	for _, cm := range find[corev1.ConfigMap](objs) {
		if strings.HasPrefix(cm.Name, "flyte-runs-envoy") {
			envoyCM = cm
		}
	}
	if envoyCM == nil || !sameBytes([]byte(envoyCM.Data["envoy.yaml"]), MustReadFile(t, "envoy/envoy.yaml")) {
		t.Errorf("the sidecar's Envoy ConfigMap does not hold envoy/envoy.yaml")
	}
}

// TestPodsAreLockedDown checks every container of every built pod: non-root,
// read-only root filesystem, no privilege escalation, every capability
// dropped.
func TestPodsAreLockedDown(t *testing.T) {
	for _, dir := range overlays[:2] {
		for _, d := range find[appsv1.Deployment](MustBuild(t, dir)) {
			pod := d.Spec.Template.Spec
			for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
				t.Run(dir+"/"+d.Name+"/"+c.Name, func(t *testing.T) {
					assertLockedDown(t, pod.SecurityContext, c)
				})
			}
		}
	}
}

func assertLockedDown(t *testing.T, psc *corev1.PodSecurityContext, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Fatalf("no securityContext")
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) ||
		(sc.RunAsNonRoot == nil && psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	if !nonRoot {
		t.Errorf("runAsNonRoot not true")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("readOnlyRootFilesystem not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("allowPrivilegeEscalation not false")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("capabilities.drop does not contain ALL")
	}
	if len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities.add = %v, want none", sc.Capabilities.Add)
	}
}

// idgateContainer returns the Deployment holding idgate and its container.
func idgateContainer(tb testing.TB, objs []Object) (*appsv1.Deployment, corev1.Container) {
	tb.Helper()
	for _, d := range find[appsv1.Deployment](objs) {
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name == "idgate" {
				return d, c
			}
		}
	}
	tb.Fatalf("no Deployment with an idgate container")
	return nil, corev1.Container{}
}

func TestIdgateDeployment(t *testing.T) {
	for _, dir := range overlays[:2] {
		t.Run(dir, func(t *testing.T) {
			objs := MustBuild(t, dir)
			d, c := idgateContainer(t, objs)
			pod := d.Spec.Template.Spec
			podLabels := labels.Set(d.Spec.Template.Labels)

			assertProbe(t, "liveness", c.LivenessProbe, "/healthz")
			assertProbe(t, "readiness", c.ReadinessProbe, "/readyz")
			assertQuantity(t, "requests.cpu", c.Resources.Requests, corev1.ResourceCPU, "100m")
			assertQuantity(t, "requests.memory", c.Resources.Requests, corev1.ResourceMemory, "64Mi")
			assertQuantity(t, "limits.memory", c.Resources.Limits, corev1.ResourceMemory, "256Mi")

			if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/idgate/config.yaml"}) {
				t.Errorf("args = %v", c.Args)
			}
			assertAntiAffinity(t, pod, podLabels)
			assertPDB(t, find[policyv1.PodDisruptionBudget](objs), podLabels)
			assertServiceAccount(t, objs, pod)
			assertConfigAndSecrets(t, objs, pod, c)
		})
	}
}

func assertProbe(t *testing.T, name string, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
		t.Errorf("%s probe: want HTTP GET %s, got %+v", name, path, p)
	}
}

func assertQuantity(t *testing.T, name string, rl corev1.ResourceList, r corev1.ResourceName, want string) {
	t.Helper()
	got, ok := rl[r]
	if !ok || got.Cmp(resource.MustParse(want)) != 0 {
		t.Errorf("%s = %v, want %s", name, got.String(), want)
	}
}

func assertAntiAffinity(t *testing.T, pod corev1.PodSpec, podLabels labels.Set) {
	t.Helper()
	if pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil {
		t.Fatalf("no podAntiAffinity")
	}
	terms := pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	for _, term := range terms {
		sel := term.PodAffinityTerm.LabelSelector
		if sel != nil && labels.SelectorFromSet(sel.MatchLabels).Matches(podLabels) && term.PodAffinityTerm.TopologyKey != "" {
			return
		}
	}
	t.Errorf("no anti-affinity term selects the pod's own labels %v", podLabels)
}

func assertPDB(t *testing.T, pdbs []*policyv1.PodDisruptionBudget, podLabels labels.Set) {
	t.Helper()
	for _, p := range pdbs {
		if p.Spec.Selector != nil && labels.SelectorFromSet(p.Spec.Selector.MatchLabels).Matches(podLabels) &&
			p.Spec.MinAvailable != nil && p.Spec.MinAvailable.IntValue() >= 1 {
			return
		}
	}
	t.Errorf("no PodDisruptionBudget with minAvailable >= 1 selects the pod %v", podLabels)
}

func assertServiceAccount(t *testing.T, objs []Object, pod corev1.PodSpec) {
	t.Helper()
	for _, sa := range find[corev1.ServiceAccount](objs) {
		if sa.Name == pod.ServiceAccountName {
			return
		}
	}
	t.Errorf("serviceAccountName %q is not in the build", pod.ServiceAccountName)
}

// assertConfigAndSecrets checks the config file comes from the generated
// ConfigMap built from base/config.yaml, and the secrets from idgate-secrets.
func assertConfigAndSecrets(t *testing.T, objs []Object, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	mounted := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounted[m.MountPath] = m.Name
	}
	cfgVol := vols[mounted["/etc/idgate/config.yaml"]]
	if cfgVol.ConfigMap == nil {
		t.Fatalf("/etc/idgate/config.yaml is not mounted from a ConfigMap")
	}
	var found bool
	for _, cm := range find[corev1.ConfigMap](objs) {
		if cm.Name == cfgVol.ConfigMap.Name {
			found = sameBytes([]byte(cm.Data["config.yaml"]), MustReadFile(t, "kubernetes/base/config.yaml"))
		}
	}
	if !found {
		t.Errorf("ConfigMap %q with base/config.yaml not in the build", cfgVol.ConfigMap.Name)
	}
	secVol := vols[mounted["/var/run/secrets/idgate"]]
	if secVol.Secret == nil || secVol.Secret.SecretName != "idgate-secrets" {
		t.Errorf("/var/run/secrets/idgate is not the idgate-secrets Secret: %+v", secVol)
	}
}

// TestKustomizeConfigLoads: base/config.yaml, the config every overlay
// mounts, loads with idgate's own config package once the idgate-secrets
// files exist, and lets Flyte's pre-login discovery through.
func TestKustomizeConfigLoads(t *testing.T) {
	cfg := MustLoadIdgateConfig(t, string(MustReadFile(t, "kubernetes/base/config.yaml")))
	assertPublicExact(t, cfg, "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata")
}
