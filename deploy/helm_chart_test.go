package deploy

import (
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
)

// TestHelmDefaultValuesRenderAGateway: `helm template idgate
// deploy/helm/idgate` with the chart's own values renders a gateway that
// would run: every document decodes strictly, the pod is locked down and
// probed on the paths idgate serves, the config it mounts loads with
// idgate's config package, and the Service, PDB and NetworkPolicy select it.
func TestHelmDefaultValuesRenderAGateway(t *testing.T) {
	r := MustRender(t, "idgate", nil, nil)
	d, c := gatewayDeployment(t, r)
	pod := d.Spec.Template.Spec
	podLabels := labels.Set(d.Spec.Template.Labels)

	t.Run("locked down", func(t *testing.T) { assertLockedDown(t, pod.SecurityContext, c) })
	t.Run("probes, resources, GOMEMLIMIT", func(t *testing.T) {
		assertProbe(t, "liveness", c.LivenessProbe, "/healthz")
		assertProbe(t, "readiness", c.ReadinessProbe, "/readyz")
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
			if p != nil && p.HTTPGet != nil && p.HTTPGet.Port.String() != "http" {
				t.Errorf("probe on port %s, want the http port", p.HTTPGet.Port.String())
			}
		}
		assertQuantity(t, "requests.cpu", c.Resources.Requests, corev1.ResourceCPU, "100m")
		assertQuantity(t, "limits.memory", c.Resources.Limits, corev1.ResourceMemory, "256Mi")
		assertGoMemLimit(t, c)
	})
	if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/idgate/config.yaml"}) {
		t.Errorf("args = %v", c.Args)
	}
	assertAntiAffinity(t, pod, podLabels)
	assertPDB(t, find[policyv1.PodDisruptionBudget](r.Objects), podLabels)
	assertServiceAccount(t, r.Objects, pod)
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken not false")
	}

	cfgVol := mountedVolume(t, pod.Volumes, c, "/etc/idgate/config.yaml")
	if cfgVol.ConfigMap == nil {
		t.Fatalf("/etc/idgate/config.yaml is not from a ConfigMap: %+v", cfgVol)
	}
	cfg := MustLoadIdgateConfig(t, r.configMap(t, cfgVol.ConfigMap.Name).Data["config.yaml"])
	t.Run("config", func(t *testing.T) {
		assertPublicExact(t, cfg, "/.well-known/oauth-authorization-server")
		if len(cfg.Issuers) == 0 || cfg.Issuers[0].Issuer == "" {
			t.Errorf("no example issuer in the default config")
		}
		if got := port(t, cfg.Server.HTTPAddr); got != containerPort(t, c, "http") {
			t.Errorf("server.http_addr %s, container port http %d", cfg.Server.HTTPAddr, containerPort(t, c, "http"))
		}
		if got := port(t, cfg.Server.GRPCAddr); got != containerPort(t, c, "grpc") {
			t.Errorf("server.grpc_addr %s, container port grpc %d", cfg.Server.GRPCAddr, containerPort(t, c, "grpc"))
		}
		if !slices.Equal(cfg.Redis.Addrs, []string{"idgate-redis:6379"}) {
			t.Errorf("redis.addrs = %v, want redis.addrs of values.yaml", cfg.Redis.Addrs)
		}
	})
	t.Run("secrets from the named Secret", func(t *testing.T) {
		v := mountedVolume(t, pod.Volumes, c, secretsDir)
		if v.Secret == nil || v.Secret.SecretName != "idgate-secrets" || (v.Secret.Optional != nil && *v.Secret.Optional) {
			t.Errorf("%s is not the required Secret idgate-secrets: %+v", secretsDir, v)
		}
		if len(find[corev1.Secret](r.Objects)) != 0 {
			t.Errorf("the chart renders a Secret; keys must come from an existing one")
		}
	})
	t.Run("service", func(t *testing.T) { assertServiceSelects(t, r, podLabels, c) })
	t.Run("the Istio provider names this Service", func(t *testing.T) {
		// helm install idgate deploy/helm/idgate -n idgate
		g := MustMeshConfig(t).GetExtensionProviders()[0].GetEnvoyExtAuthzGrpc()
		svc := find[corev1.Service](r.Objects)[0]
		if g.GetService() != svc.Name+".idgate.svc.cluster.local" ||
			!slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return uint32(p.Port) == g.GetPort() }) {
			t.Errorf("provider %s:%d is not the chart's Service %s %v", g.GetService(), g.GetPort(), svc.Name, svc.Spec.Ports)
		}
	})
	t.Run("network policy", func(t *testing.T) { assertGatewayNetworkPolicy(t, r, podLabels, c) })
	for _, kind := range []string{"HorizontalPodAutoscaler", "ServiceMonitor"} {
		if slices.ContainsFunc(r.Objects, func(o Object) bool { return o.Kind == kind }) {
			t.Errorf("%s rendered with default values; it is optional", kind)
		}
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want at least 2 (ext_authz fails closed)", d.Spec.Replicas)
	}
}

// assertGoMemLimit: GOMEMLIMIT is set, parses, and leaves headroom under
// the container's memory limit.
func assertGoMemLimit(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		q, err := resource.ParseQuantity(strings.TrimSuffix(e.Value, "B"))
		if err != nil {
			t.Fatalf("GOMEMLIMIT %q: %v", e.Value, err)
		}
		limit := c.Resources.Limits[corev1.ResourceMemory]
		if q.Cmp(limit) >= 0 || q.Value() < limit.Value()/2 {
			t.Errorf("GOMEMLIMIT %s, memory limit %s: want between half the limit and the limit", e.Value, limit.String())
		}
		return
	}
	t.Errorf("no GOMEMLIMIT")
}

func assertServiceSelects(t *testing.T, r Rendered, podLabels labels.Set, c corev1.Container) {
	t.Helper()
	svc := findOne[corev1.Service](t, r.Objects, "Service")
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the pod %v", svc.Spec.Selector, podLabels)
	}
	for _, name := range []string{"grpc", "http"} {
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
			return p.Name == name && p.TargetPort.String() == name && containerPort(t, c, name) > 0
		}) {
			t.Errorf("Service has no port %q targeting the container's %q", name, name)
		}
	}
}

// assertGatewayNetworkPolicy: ext_authz (gRPC) is open only to the ingress
// gateway pods, the ones the CUSTOM policy makes call idgate.
func assertGatewayNetworkPolicy(t *testing.T, r Rendered, podLabels labels.Set, c corev1.Container) {
	t.Helper()
	np := findOne[networkingv1.NetworkPolicy](t, r.Objects, "NetworkPolicy")
	if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(podLabels) {
		t.Fatalf("podSelector %v does not select the pod %v", np.Spec.PodSelector.MatchLabels, podLabels)
	}
	grpc := containerPort(t, c, "grpc")
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 {
			t.Errorf("an ingress rule opens every port: %+v", rule)
		}
		for _, p := range rule.Ports {
			if p.Port != nil && p.Port.IntVal == grpc {
				assertOnlyGatewayPeers(t, rule.From)
			}
		}
	}
}

// TestHelmOptionalObjects: HPA and ServiceMonitor render when enabled, with
// the monitoring shapes of deploy/monitoring, and target what the chart runs.
func TestHelmOptionalObjects(t *testing.T) {
	r := MustRender(t, "idgate", nil, map[string]any{
		"autoscaling":    map[string]any{"enabled": true, "minReplicas": 2, "maxReplicas": 5},
		"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}},
	})
	d, _ := gatewayDeployment(t, r)
	if d.Spec.Replicas != nil {
		t.Errorf("replicas set with the HPA enabled: the HPA owns it")
	}
	hpa := findOne[autoscalingv2.HorizontalPodAutoscaler](t, r.Objects, "HPA")
	ref := hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != d.Name || hpa.Spec.MaxReplicas != 5 ||
		hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 2 {
		t.Errorf("HPA %+v does not scale Deployment %s from 2 to 5", hpa.Spec, d.Name)
	}

	sm := findOne[monitoringv1.ServiceMonitor](t, r.Objects, "ServiceMonitor")
	var want monitoringv1.ServiceMonitor
	if err := unmarshalStrict(MustReadFile(t, "monitoring/servicemonitor.yaml"), &want); err != nil {
		t.Fatal(err)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != want.Spec.Endpoints[0].Port ||
		sm.Spec.Endpoints[0].Path != want.Spec.Endpoints[0].Path {
		t.Errorf("endpoints %+v, want those of monitoring/servicemonitor.yaml %+v", sm.Spec.Endpoints, want.Spec.Endpoints)
	}
	if sm.Labels["release"] != "prometheus" {
		t.Errorf("serviceMonitor.labels not applied: %v", sm.Labels)
	}
	svc := find[corev1.Service](r.Objects)[0]
	if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the Service %v", sm.Spec.Selector.MatchLabels, svc.Labels)
	}
}

// TestHelmSchemaRefusesTypos: values.schema.json makes a typo'd or
// misplaced key an error before anything renders, as `helm install` does.
func TestHelmSchemaRefusesTypos(t *testing.T) {
	c := MustLoadChart(t)
	if _, err := renderValues(c, map[string]any{}, "idgate"); err != nil {
		t.Fatalf("the chart's own values fail its schema: %v", err)
	}
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"top-level typo", map[string]any{"replica": 3}, "replica"},
		{"nested typo", map[string]any{"image": map[string]any{"tgs": "v1"}}, "tgs"},
		{"typo in a toggle", map[string]any{"networkPolicy": map[string]any{"enable": false}}, "enable"},
		{"secret in the wrong place", map[string]any{"secrets": map[string]any{"name": "s", "signingKey": "x"}}, "signingKey"},
		{"unknown mode", map[string]any{"mode": "sidcar"}, "mode"},
		{"port out of range", map[string]any{"ports": map[string]any{"grpc": 70000}}, "grpc"},
		{"sidecar typo", map[string]any{"sidecar": map[string]any{"upstreamport": 8088}}, "upstreamport"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderValues(c, tc.vals, "idgate")
			if err == nil {
				t.Fatalf("values %v accepted", tc.vals)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// TestHelmEnvoyCopyIsCurrent: the chart's files/envoy.yaml (Helm cannot read
// outside the chart) is deploy/envoy/envoy.yaml, byte for byte.
func TestHelmEnvoyCopyIsCurrent(t *testing.T) {
	if !sameBytes(MustReadFile(t, chartDir+"/files/envoy.yaml"), MustReadFile(t, "envoy/envoy.yaml")) {
		t.Errorf("%s/files/envoy.yaml differs from envoy/envoy.yaml: cp envoy/envoy.yaml %s/files/", chartDir, chartDir)
	}
}

// assertNoGatewayObjects: sidecar mode renders no Deployment, Service or
// PDB: idgate runs in Flyte's pod, not in a Deployment of its own.
func assertNoGatewayObjects(t *testing.T, r Rendered) {
	t.Helper()
	if n := len(find[appsv1.Deployment](r.Objects)) + len(find[corev1.Service](r.Objects)) +
		len(find[policyv1.PodDisruptionBudget](r.Objects)); n != 0 {
		t.Errorf("sidecar mode rendered %d Deployment/Service/PDB objects", n)
	}
}

// TestHelmConfigFollowsValues: the listen addresses and the Redis address
// of the rendered config come from values, and what they render still loads.
func TestHelmConfigFollowsValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vals  map[string]any
		grpc  string
		http  string
		redis []string
	}{
		{"defaults", nil, ":9001", ":8080", []string{"idgate-redis:6379"}},
		{"other ports", map[string]any{"ports": map[string]any{"grpc": 19001, "http": 18080}}, ":19001", ":18080", []string{"idgate-redis:6379"}},
		{"sentinels", map[string]any{"redis": map[string]any{"addrs": []any{"s-0:26379", "s-1:26379"}}}, ":9001", ":8080", []string{"s-0:26379", "s-1:26379"}},
		{"sidecar", map[string]any{"mode": "sidecar"}, "127.0.0.1:9001", ":8080", []string{"idgate-redis:6379"}},
		{"no redis", map[string]any{"redis": map[string]any{"addrs": []any{}}}, ":9001", ":8080", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := MustRender(t, "idgate", nil, tc.vals)
			cfg := MustLoadIdgateConfig(t, r.configMap(t, "idgate-config").Data["config.yaml"])
			if cfg.Server.GRPCAddr != tc.grpc || cfg.Server.HTTPAddr != tc.http {
				t.Errorf("grpc_addr %q http_addr %q, want %q %q", cfg.Server.GRPCAddr, cfg.Server.HTTPAddr, tc.grpc, tc.http)
			}
			if !slices.Equal(cfg.Redis.Addrs, tc.redis) {
				t.Errorf("redis.addrs %v, want %v", cfg.Redis.Addrs, tc.redis)
			}
			if tc.vals["ports"] == nil || tc.vals["mode"] != nil {
				return
			}
			_, c := gatewayDeployment(t, r)
			if got := containerPort(t, c, "grpc"); got != port(t, tc.grpc) {
				t.Errorf("container port grpc %d, config %s", got, tc.grpc)
			}
		})
	}
}
