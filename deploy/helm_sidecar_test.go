package deploy

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// Pod labels of the Flyte charts, as their templates render them; read from
// flyteorg/flyte at 6fadb90d65af (charts/flyte-binary/templates/_helpers.tpl,
// "flyte-binary.selectorLabels") and, for flyte-core (removed from the
// repository for Flyte 2), at bbd600468e (charts/flyte-core/templates/
// _helpers.tpl, "flyteadmin.podLabels", "flytepropeller.selectorLabels").
var (
	flyteBinaryPod = labels.Set{
		"app.kubernetes.io/name":      "flyte-binary",
		"app.kubernetes.io/instance":  "flyte-binary",
		"app.kubernetes.io/component": "flyte-binary",
	}
	// flyteBinaryConsolePod is the console (static UI) pod of the same chart.
	flyteBinaryConsolePod = labels.Set{
		"app.kubernetes.io/name":      "flyte-binary",
		"app.kubernetes.io/instance":  "flyte-binary",
		"app.kubernetes.io/component": "console",
	}
	flyteadminPod = labels.Set{
		"app.kubernetes.io/name":       "flyteadmin",
		"app.kubernetes.io/instance":   "flyte",
		"app.kubernetes.io/managed-by": "Helm",
	}
	flytepropellerPod = labels.Set{
		"app.kubernetes.io/name":     "flytepropeller",
		"app.kubernetes.io/instance": "flyte",
	}
)

// sidecarSnippet is one values file for a Flyte chart that adds Envoy and
// idgate to Flyte's pod, and the idgate chart values that go with it.
type sidecarSnippet struct {
	name string
	// file is the Flyte chart's values snippet.
	file string
	// containers and volumes are the snippet's paths to the extra
	// containers and volumes of Flyte's pod.
	containers, volumes []string
	// idgateValues are values files of this chart for the same pod.
	idgateValues []string
	pod          labels.Set
	// upstream is the port of Flyte's API in the pod.
	upstream uint32
	// discovery is a path the Flyte client fetches before login.
	discovery string
	// check tests what is specific to one Flyte chart.
	check func(t *testing.T, snippet map[string]any, envoyPort int32)
}

var sidecarSnippets = []sidecarSnippet{
	{
		name:       "flyte-binary",
		file:       chartDir + "/examples/flyte-binary-values.yaml",
		containers: []string{"deployment", "sidecars"},
		volumes:    []string{"deployment", "extraVolumes"},
		pod:        flyteBinaryPod,
		upstream:   8090,
		discovery:  "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata",
		check:      checkFlyteBinarySnippet,
	},
	{
		name:         "flyte-core",
		file:         chartDir + "/examples/flyte-core-values.yaml",
		containers:   []string{"flyteadmin", "additionalContainers"},
		volumes:      []string{"flyteadmin", "additionalVolumes"},
		idgateValues: []string{chartDir + "/examples/idgate-flyte-core-values.yaml"},
		pod:          flyteadminPod,
		upstream:     8088,
		discovery:    "/flyteidl.service.AuthMetadataService/GetOAuth2Metadata",
		check:        checkFlyteCoreSnippet,
	},
}

// TestHelmSidecarSnippets: each Flyte chart snippet's containers decode
// strictly into corev1.Container and are locked down; what they mount is
// rendered by this chart in sidecar mode; the idgate config loads, binds
// ext_authz to loopback; Envoy's config is deploy/envoy's, wired to the
// snippet's ports; the NetworkPolicy selects Flyte's pod and keeps its API
// port closed.
func TestHelmSidecarSnippets(t *testing.T) {
	for _, tc := range sidecarSnippets {
		t.Run(tc.name, func(t *testing.T) {
			var snippet map[string]any
			if err := yaml.UnmarshalStrict(MustReadFile(t, tc.file), &snippet); err != nil {
				t.Fatalf("%s: %v", tc.file, err)
			}
			var containers []corev1.Container
			var volumes []corev1.Volume
			mustDecodeAt(t, snippet, tc.containers, &containers)
			mustDecodeAt(t, snippet, tc.volumes, &volumes)
			byName := map[string]corev1.Container{}
			for _, c := range containers {
				byName[c.Name] = c
				t.Run(c.Name+" locked down", func(t *testing.T) { assertLockedDown(t, nil, c) })
			}
			idgate, okI := byName["idgate"]
			envoy, okE := byName["envoy"]
			if !okI || !okE {
				t.Fatalf("containers %v: want envoy and idgate", containers)
			}

			r := MustRender(t, "flyte", tc.idgateValues, map[string]any{"mode": "sidecar"})
			assertNoGatewayObjects(t, r)
			for _, v := range volumes {
				if v.ConfigMap != nil {
					r.configMap(t, v.ConfigMap.Name)
				}
			}

			cfgVol := mountedVolume(t, volumes, idgate, "/etc/idgate/config.yaml")
			if cfgVol.ConfigMap == nil {
				t.Fatalf("idgate's config is not from a ConfigMap")
			}
			cfg := MustLoadIdgateConfig(t, r.configMap(t, cfgVol.ConfigMap.Name).Data["config.yaml"])
			assertPublicExact(t, cfg, tc.discovery)
			if host, _, _ := net.SplitHostPort(cfg.Server.GRPCAddr); host != "127.0.0.1" {
				t.Errorf("server.grpc_addr %s: ext_authz must listen on loopback only in Flyte's pod", cfg.Server.GRPCAddr)
			}
			if sec := mountedVolume(t, volumes, idgate, secretsDir); sec.Secret == nil || sec.Secret.SecretName != "idgate-secrets" {
				t.Errorf("%s is not the idgate-secrets Secret: %+v", secretsDir, sec)
			}
			httpPort := port(t, cfg.Server.HTTPAddr)
			for path, p := range map[string]*corev1.Probe{"/healthz": idgate.LivenessProbe, "/readyz": idgate.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || int32(p.HTTPGet.Port.IntValue()) != httpPort {
					t.Errorf("idgate probe: want GET %s on %d, got %+v", path, httpPort, p)
				}
			}
			assertGoMemLimit(t, idgate)

			envoyVol := mountedVolume(t, volumes, envoy, "/etc/envoy")
			if envoyVol.ConfigMap == nil {
				t.Fatalf("Envoy's config is not from a ConfigMap")
			}
			b := MustBootstrapYAML(t, "rendered envoy.yaml", []byte(r.configMap(t, envoyVol.ConfigMap.Name).Data["envoy.yaml"]))
			envoyPort := containerPort(t, envoy, "envoy-http")
			assertEnvoyWiring(t, b, uint32(envoyPort), uint32(port(t, cfg.Server.GRPCAddr)), tc.upstream)
			assertSidecarNetworkPolicy(t, r, tc.pod, envoyPort, int32(tc.upstream))
			tc.check(t, snippet, envoyPort)
		})
	}
}

// mustDecodeAt strictly decodes the value at path in a snippet into v.
func mustDecodeAt(t *testing.T, m map[string]any, path []string, v any) {
	t.Helper()
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("no %v in the snippet", path)
		}
		cur = mm[k]
	}
	if cur == nil {
		t.Fatalf("no %v in the snippet", path)
	}
	js, err := json.Marshal(cur)
	if err != nil {
		t.Fatal(err)
	}
	if err := unmarshalStrict(js, v); err != nil {
		t.Fatalf("%v: strict decode into %T: %v", path, v, err)
	}
}

// assertEnvoyWiring: Envoy listens where its container port says, calls
// idgate on loopback at its gRPC port, and forwards to Flyte on loopback.
func assertEnvoyWiring(t *testing.T, b *bootstrapv3.Bootstrap, listen, idgate, upstream uint32) {
	t.Helper()
	ls := b.GetStaticResources().GetListeners()
	if len(ls) != 1 || ls[0].GetAddress().GetSocketAddress().GetPortValue() != listen {
		t.Errorf("Envoy listeners %v, want one on the container port %d", ls, listen)
	}
	for name, want := range map[string]uint32{"idgate": idgate, "runs": upstream} {
		var got []string
		for _, c := range b.GetStaticResources().GetClusters() {
			if c.GetName() != name {
				continue
			}
			for _, e := range c.GetLoadAssignment().GetEndpoints() {
				for _, lb := range e.GetLbEndpoints() {
					sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
					got = append(got, net.JoinHostPort(sa.GetAddress(), itoa(sa.GetPortValue())))
				}
			}
		}
		if !slices.Equal(got, []string{net.JoinHostPort("127.0.0.1", itoa(want))}) {
			t.Errorf("Envoy cluster %s endpoints %v, want 127.0.0.1:%d", name, got, want)
		}
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// assertSidecarNetworkPolicy: the policy selects Flyte's pod; every rule
// names its ports; Envoy's port is open; Flyte's API port never is.
func assertSidecarNetworkPolicy(t *testing.T, r Rendered, pod labels.Set, envoyPort, apiPort int32) {
	t.Helper()
	np := findOne[networkingv1.NetworkPolicy](t, r.Objects, "NetworkPolicy")
	if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(pod) || len(np.Spec.PodSelector.MatchLabels) == 0 {
		t.Fatalf("podSelector %v does not select Flyte's pod %v", np.Spec.PodSelector.MatchLabels, pod)
	}
	ports := ingressPorts(t, np)
	if ports[apiPort] {
		t.Errorf("Flyte's API port %d is open: Envoy must be the only way in", apiPort)
	}
	if !ports[envoyPort] {
		t.Errorf("Envoy's port %d is not open", envoyPort)
	}
}

func checkFlyteBinarySnippet(t *testing.T, snippet map[string]any, envoyPort int32) {
	var server struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	mustDecodeAt(t, snippet, []string{"flyte-core-components", "runs", "server"}, &server)
	if server.Host != "127.0.0.1" || server.Port != 8090 {
		t.Errorf("runs.server %+v: want 127.0.0.1:8090, reachable from Envoy only", server)
	}
	for _, key := range []string{"livenessProbe", "readinessProbe"} {
		var p corev1.Probe
		mustDecodeAt(t, snippet, []string{"deployment", key}, &p)
		if p.HTTPGet == nil || int32(p.HTTPGet.Port.IntValue()) != envoyPort {
			t.Errorf("deployment.%s %+v: Flyte is on loopback, probe it through Envoy (%d)", key, p, envoyPort)
		}
	}
	var ports []corev1.ServicePort
	mustDecodeAt(t, snippet, []string{"service", "extraPorts"}, &ports)
	if len(ports) != 1 || ports[0].TargetPort.String() != "envoy-http" {
		t.Errorf("service.extraPorts %+v: want Envoy's port", ports)
	}
}

func checkFlyteCoreSnippet(t *testing.T, snippet map[string]any, envoyPort int32) {
	var ports []corev1.ServicePort
	mustDecodeAt(t, snippet, []string{"flyteadmin", "service", "additionalPorts"}, &ports)
	if len(ports) != 1 || int32(ports[0].TargetPort.IntValue()) != envoyPort {
		t.Errorf("flyteadmin.service.additionalPorts %+v: want Envoy's port %d", ports, envoyPort)
	}
	// flyteadmin listens on every address: its gRPC port 8089 may only be
	// open to flytepropeller and flytescheduler, never to everyone.
	r := MustRender(t, "flyte", []string{chartDir + "/examples/idgate-flyte-core-values.yaml"}, nil)
	for _, rule := range find[networkingv1.NetworkPolicy](r.Objects)[0].Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.IntVal != 8089 {
				continue
			}
			if len(rule.From) == 0 {
				t.Fatalf("flyteadmin's gRPC port 8089 open to every source")
			}
			var propeller bool
			for _, peer := range rule.From {
				if peer.PodSelector != nil && peer.NamespaceSelector == nil {
					propeller = propeller || labels.SelectorFromSet(peer.PodSelector.MatchLabels).Matches(flytepropellerPod)
				}
			}
			if !propeller {
				t.Errorf("8089 not open to flytepropeller %v", flytepropellerPod)
			}
		}
	}
}
