package deploy

import (
	"encoding/json"
	"fmt"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/types"
)

// Object is one decoded manifest: its type meta, and either a Kubernetes API
// object (K8s) or an Istio resource whose spec is an istio.io/api message.
type Object struct {
	metav1.TypeMeta
	Meta metav1.ObjectMeta
	K8s  any
	// Istio is the decoded spec of an Istio custom resource.
	Istio proto.Message
}

// k8sKinds maps apiVersion/kind to a fresh typed object.
var k8sKinds = map[string]func() any{
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/Namespace":                            func() any { return &corev1.Namespace{} },
	"v1/Pod":                                  func() any { return &corev1.Pod{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
}

// istioKinds maps an Istio apiVersion/kind to a fresh spec message.
var istioKinds = map[string]func() proto.Message{
	"security.istio.io/v1/AuthorizationPolicy":      func() proto.Message { return &securityv1beta1.AuthorizationPolicy{} },
	"security.istio.io/v1beta1/AuthorizationPolicy": func() proto.Message { return &securityv1beta1.AuthorizationPolicy{} },
	"security.istio.io/v1/PeerAuthentication":       func() proto.Message { return &securityv1beta1.PeerAuthentication{} },
	"networking.istio.io/v1alpha3/EnvoyFilter":      func() proto.Message { return &networkingv1alpha3.EnvoyFilter{} },
}

// istioEnvelope is a custom resource with a spec decoded separately.
type istioEnvelope struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            json.RawMessage   `json:"spec"`
}

// decodeObject strictly decodes one YAML document into its API type.
func decodeObject(doc []byte) (Object, error) {
	var tm metav1.TypeMeta
	if err := unmarshalStrictPartial(doc, &tm); err != nil {
		return Object{}, err
	}
	key := tm.APIVersion + "/" + tm.Kind
	if newObj, ok := k8sKinds[key]; ok {
		obj := newObj()
		if err := unmarshalStrict(doc, obj); err != nil {
			return Object{}, fmt.Errorf("%s: %w", key, err)
		}
		meta, err := objectMeta(obj)
		return Object{TypeMeta: tm, Meta: meta, K8s: obj}, err
	}
	if newSpec, ok := istioKinds[key]; ok {
		var env istioEnvelope
		if err := unmarshalStrict(doc, &env); err != nil {
			return Object{}, fmt.Errorf("%s: %w", key, err)
		}
		spec := newSpec()
		if err := unmarshalProtoYAML(env.Spec, spec); err != nil {
			return Object{}, fmt.Errorf("%s %s spec: %w", key, env.Metadata.Name, err)
		}
		return Object{TypeMeta: tm, Meta: env.Metadata, Istio: spec}, nil
	}
	return Object{}, fmt.Errorf("unknown apiVersion/kind %q: add its API type to the test", key)
}

// unmarshalStrictPartial reads only the type meta, ignoring other fields.
func unmarshalStrictPartial(doc []byte, tm *metav1.TypeMeta) error {
	var probe struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := unmarshalLoose(doc, &probe); err != nil {
		return err
	}
	tm.APIVersion, tm.Kind = probe.APIVersion, probe.Kind
	return nil
}

func objectMeta(obj any) (metav1.ObjectMeta, error) {
	m, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return metav1.ObjectMeta{}, fmt.Errorf("%T has no ObjectMeta", obj)
	}
	return *m.GetObjectMeta().(*metav1.ObjectMeta), nil
}

// MustDecodeObjects strictly decodes every document of a manifest file.
func MustDecodeObjects(tb testing.TB, path string) []Object {
	tb.Helper()
	var objs []Object
	for i, doc := range MustYAMLDocs(tb, MustReadFile(tb, path)) {
		o, err := decodeObject(doc)
		if err != nil {
			tb.Fatalf("%s document %d: %v", path, i, err)
		}
		objs = append(objs, o)
	}
	return objs
}

// MustKustomization strictly decodes a kustomization.yaml.
func MustKustomization(tb testing.TB, path string) *types.Kustomization {
	tb.Helper()
	var k types.Kustomization
	if err := unmarshalStrict(MustReadFile(tb, path), &k); err != nil {
		tb.Fatalf("%s: strict decode into kustomize types.Kustomization: %v", path, err)
	}
	return &k
}
