package deploy

import (
	"slices"
	"strconv"
	"testing"

	securityv1beta1 "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The Flyte runs service must be reachable only through the proxy that
// called idgate: Flyte decodes x-flyte-identity without verifying it, so a
// client that reaches it directly chooses its own identity. These tests
// check the deploy tree says so, for each layout.

const (
	// flyteBinaryAPIPort is flyte-binary's API port (runs.server.port); 8000
	// is Envoy's when it fronts Flyte in the same pod.
	flyteBinaryAPIPort = 8090
	envoyPort          = 8000
	flyteBinaryWebhook = 9443
	flyteBinaryCache   = 9444
	flyteBinarySA      = "cluster.local/ns/flyte/sa/flyte-binary"
	// gatewayPrincipal is the ingress gateway's mTLS principal, the only
	// peer the flyte-binary policy admits on its API port.
	gatewayPrincipal = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
)

// ingressGatewayPod holds the labels of Istio's ingress gateway pods, as
// istio/authorizationpolicy-ext-authz.yaml selects them.
var ingressGatewayPod = labels.Set{"istio": "ingressgateway", "app": "istio-ingressgateway"}

// TestSidecarOverlayRunsPortClosed: in kubernetes/overlays/sidecar the
// NetworkPolicy selects the runs pod of the same build and opens only
// Envoy's and idgate's ports, never a port of the runs container.
func TestSidecarOverlayRunsPortClosed(t *testing.T) {
	objs := MustBuild(t, "kubernetes/overlays/sidecar")
	var runs *appsv1.Deployment
	for _, d := range find[appsv1.Deployment](objs) {
		if d.Name == "flyte-runs" {
			runs = d
		}
	}
	if runs == nil {
		t.Fatal("no flyte-runs Deployment")
	}
	pod := labels.Set(runs.Spec.Template.Labels)
	closed := map[int32]bool{}
	open := map[int32]bool{}
	for _, c := range runs.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			switch c.Name {
			case "runs":
				closed[p.ContainerPort] = true
			case "envoy":
				open[p.ContainerPort] = true
			}
		}
	}
	if len(closed) == 0 || len(open) == 0 {
		t.Fatalf("runs ports %v, Envoy ports %v: want both", closed, open)
	}
	var selecting int
	for _, np := range find[networkingv1.NetworkPolicy](objs) {
		if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(pod) {
			continue
		}
		selecting++
		t.Run(np.Name, func(t *testing.T) {
			ports := ingressPorts(t, np)
			for p := range closed {
				if ports[p] {
					t.Errorf("the runs container's port %d is open", p)
				}
			}
			for p := range open {
				if !ports[p] {
					t.Errorf("Envoy's port %d is closed", p)
				}
			}
		})
	}
	if selecting == 0 {
		t.Errorf("no NetworkPolicy selects the runs pod %v", pod)
	}
}

// ingressPorts returns every port an Ingress NetworkPolicy opens, failing
// on a rule that opens all ports.
func ingressPorts(t *testing.T, np *networkingv1.NetworkPolicy) map[int32]bool {
	t.Helper()
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Errorf("policyTypes %v: no Ingress", np.Spec.PolicyTypes)
	}
	ports := map[int32]bool{}
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 {
			t.Errorf("a rule opens every port: %+v", rule)
		}
		for _, p := range rule.Ports {
			if p.Port == nil || p.EndPort != nil {
				t.Errorf("port %+v: want one port number", p)
				continue
			}
			ports[p.Port.IntVal] = true
		}
	}
	return ports
}

// flyteBinaryPolicies builds istio/flyte.
func flyteBinaryPolicies(t *testing.T) ([]*networkingv1.NetworkPolicy, map[string]*securityv1beta1.PeerAuthentication, map[string]*securityv1beta1.AuthorizationPolicy) {
	t.Helper()
	objs := MustBuild(t, "istio/flyte")
	pas := map[string]*securityv1beta1.PeerAuthentication{}
	aps := map[string]*securityv1beta1.AuthorizationPolicy{}
	for _, o := range objs {
		if o.Meta.Namespace != "flyte" {
			t.Errorf("%s %s in namespace %q, want flyte (flyte-binary's)", o.Kind, o.Meta.Name, o.Meta.Namespace)
		}
		switch s := o.Istio.(type) {
		case *securityv1beta1.PeerAuthentication:
			pas[o.Meta.Name] = s
		case *securityv1beta1.AuthorizationPolicy:
			aps[o.Meta.Name] = s
		}
	}
	return find[networkingv1.NetworkPolicy](objs), pas, aps
}

// selects reports whether a selector's labels select pod; an empty selector
// selects every pod of the namespace, which these policies must not rely on.
func selects(sel map[string]string, pod labels.Set) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(pod)
}

// TestFlyteBinaryGatewayOnlyNetworkPolicy: istio/flyte's NetworkPolicy
// selects flyte-binary's pod (labels of the upstream chart) and not its
// console; the API port is open only to the ingress gateway pods.
func TestFlyteBinaryGatewayOnlyNetworkPolicy(t *testing.T) {
	nps, _, _ := flyteBinaryPolicies(t)
	if len(nps) != 1 {
		t.Fatalf("want one NetworkPolicy, got %d", len(nps))
	}
	np := nps[0]
	if !selects(np.Spec.PodSelector.MatchLabels, flyteBinaryPod) || selects(np.Spec.PodSelector.MatchLabels, flyteBinaryConsolePod) {
		t.Fatalf("podSelector %v: want flyte-binary's pod %v, not its console", np.Spec.PodSelector.MatchLabels, flyteBinaryPod)
	}
	_ = ingressPorts(t, np)
	var apiOpen bool
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			switch p.Port.IntVal {
			case flyteBinaryAPIPort, envoyPort:
				apiOpen = true
				assertOnlyGatewayPeers(t, rule.From)
			case flyteBinaryCache:
				if len(rule.From) != 1 || rule.From[0].NamespaceSelector != nil || !selects(rule.From[0].PodSelector.MatchLabels, flyteBinaryPod) {
					t.Errorf("port %d: want flyte-binary's own pods only, got %+v", flyteBinaryCache, rule.From)
				}
			case flyteBinaryWebhook:
				// The API server is no pod; the webhook is not the API.
			default:
				t.Errorf("port %d open: not one flyte-binary serves", p.Port.IntVal)
			}
		}
	}
	if !apiOpen {
		t.Errorf("the API port is not open to the gateway")
	}
}

// assertOnlyGatewayPeers: every peer is the ingress gateway pods, in
// istio-system, named by both selectors.
func assertOnlyGatewayPeers(t *testing.T, from []networkingv1.NetworkPolicyPeer) {
	t.Helper()
	if len(from) == 0 {
		t.Errorf("API port open to every source")
	}
	for _, peer := range from {
		if peer.IPBlock != nil || peer.PodSelector == nil || peer.NamespaceSelector == nil ||
			!selects(peer.PodSelector.MatchLabels, ingressGatewayPod) ||
			!selects(peer.NamespaceSelector.MatchLabels, labels.Set{"kubernetes.io/metadata.name": "istio-system"}) ||
			selects(peer.NamespaceSelector.MatchLabels, labels.Set{"kubernetes.io/metadata.name": "flyte"}) {
			t.Errorf("API port open to %+v, want the ingress gateway pods only", peer)
		}
	}
}

// TestFlyteBinaryMeshPolicies: mTLS STRICT on flyte-binary's pod (only the
// webhook port, called by the API server, is permissive) and an ALLOW
// policy under which the API ports accept the ingress gateway's principal
// alone — the same principal the Kubeflow DENY policy trusts.
func TestFlyteBinaryMeshPolicies(t *testing.T) {
	_, pas, aps := flyteBinaryPolicies(t)
	if len(pas) != 1 || len(aps) != 1 {
		t.Fatalf("want one PeerAuthentication and one AuthorizationPolicy, got %d and %d", len(pas), len(aps))
	}
	for name, pa := range pas {
		t.Run(name, func(t *testing.T) {
			if !selects(pa.GetSelector().GetMatchLabels(), flyteBinaryPod) || selects(pa.GetSelector().GetMatchLabels(), flyteBinaryConsolePod) {
				t.Errorf("selector %v does not select flyte-binary's pod alone", pa.GetSelector().GetMatchLabels())
			}
			if pa.GetMtls().GetMode() != securityv1beta1.PeerAuthentication_MutualTLS_STRICT {
				t.Errorf("mtls %v, want STRICT", pa.GetMtls().GetMode())
			}
			for p, m := range pa.GetPortLevelMtls() {
				if p != flyteBinaryWebhook && m.GetMode() != securityv1beta1.PeerAuthentication_MutualTLS_STRICT {
					t.Errorf("port %d is %v: only the webhook may be permissive", p, m.GetMode())
				}
			}
		})
	}
	for name, ap := range aps {
		t.Run(name, func(t *testing.T) {
			if ap.GetAction() != securityv1beta1.AuthorizationPolicy_ALLOW {
				t.Fatalf("action %v, want ALLOW (everything else refused)", ap.GetAction())
			}
			if !selects(ap.GetSelector().GetMatchLabels(), flyteBinaryPod) || selects(ap.GetSelector().GetMatchLabels(), flyteBinaryConsolePod) {
				t.Errorf("selector %v does not select flyte-binary's pod alone", ap.GetSelector().GetMatchLabels())
			}
			var apiAllowed bool
			for _, r := range ap.GetRules() {
				ports := rulePorts(t, r)
				principals := rulePrincipals(r)
				for _, p := range ports {
					switch p {
					case flyteBinaryAPIPort, envoyPort:
						apiAllowed = true
						if !slices.Equal(principals, []string{gatewayPrincipal}) {
							t.Errorf("port %d allowed from %v, want only %s", p, principals, gatewayPrincipal)
						}
					case flyteBinaryCache:
						if !slices.Equal(principals, []string{flyteBinarySA}) {
							t.Errorf("port %d allowed from %v, want only %s", p, principals, flyteBinarySA)
						}
					case flyteBinaryWebhook:
					default:
						t.Errorf("port %d allowed: not one flyte-binary serves", p)
					}
				}
			}
			if !apiAllowed {
				t.Errorf("no rule allows the gateway to the API")
			}
		})
	}
}

// rulePorts returns the ports a rule is limited to, failing on a rule that
// names none (it would apply to every port, the API's included) or that has
// conditions this test does not read.
func rulePorts(t *testing.T, r *securityv1beta1.Rule) []int {
	t.Helper()
	var ports []int
	for _, to := range r.GetTo() {
		op := to.GetOperation()
		if len(op.GetNotPorts())+len(op.GetHosts())+len(op.GetNotHosts())+len(op.GetPaths())+len(op.GetNotPaths())+len(op.GetMethods())+len(op.GetNotMethods()) > 0 {
			t.Errorf("rule %v: conditions other than ports", r)
		}
		for _, p := range op.GetPorts() {
			n, err := strconv.Atoi(p)
			if err != nil {
				t.Errorf("port %q: %v", p, err)
			}
			ports = append(ports, n)
		}
	}
	if len(ports) == 0 || len(r.GetWhen()) > 0 {
		t.Errorf("rule %v: want ports and no when conditions", r)
	}
	return ports
}

// rulePrincipals returns the principals a rule admits, nil for any source;
// sources other than principals fail the test.
func rulePrincipals(r *securityv1beta1.Rule) []string {
	var out []string
	for _, f := range r.GetFrom() {
		s := f.GetSource()
		out = append(out, s.GetPrincipals()...)
		if len(s.GetNamespaces())+len(s.GetIpBlocks())+len(s.GetRemoteIpBlocks())+len(s.GetRequestPrincipals()) > 0 {
			out = append(out, "<non-principal source>")
		}
	}
	return out
}

// TestIngressGatewayLabels: the gateway labels these tests admit are the
// ones the CUSTOM ext_authz policy selects, so "from the gateway" means the
// proxy that asked idgate.
func TestIngressGatewayLabels(t *testing.T) {
	ap := istioPolicies(t)["idgate-ext-authz"]
	if ap == nil {
		t.Fatal("no idgate-ext-authz policy")
	}
	if !selects(ap.GetSelector().GetMatchLabels(), ingressGatewayPod) {
		t.Errorf("the CUSTOM policy selects %v, not the gateway pods %v", ap.GetSelector().GetMatchLabels(), ingressGatewayPod)
	}
}
