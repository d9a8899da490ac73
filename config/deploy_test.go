package config

import (
	"crypto/elliptic"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDeployConfigLoads keeps deploy/kubernetes/base/config.yaml honest: it
// must load with this package, with its secret files in place.
func TestDeployConfigLoads(t *testing.T) {
	raw, err := os.ReadFile("../deploy/kubernetes/base/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	MustWriteFile(t, dir, "signing-key.pem", MustECKeyPEM(t, elliptic.P256(), false))
	MustWriteFile(t, dir, "redis-password", []byte("redis-pw\n"))
	MustWriteFile(t, dir, "client-secret", []byte("client-secret\n"))
	MustWriteFile(t, dir, "session-key", []byte(strings.Repeat("k", 48)))
	yaml := strings.ReplaceAll(string(raw), "/var/run/secrets/idgate/", dir+string(filepath.Separator))
	c, err := Parse(strings.NewReader(yaml), nil)
	if err != nil {
		t.Fatalf("deploy config does not load: %v", err)
	}
	if !c.Login.Enabled() || c.Login.ClientSecret != "client-secret" || len(c.Login.SessionKeys()) != 1 || c.Redis.Password != "redis-pw" {
		t.Fatalf("secrets not read: login=%v", c.Login.Enabled())
	}
	if c.Outputs.Kubeflow.UserIDPrefix != "" || c.Outputs.Kubeflow.UserIDHeader != "kubeflow-userid" {
		t.Fatal("Kubeflow needs kubeflow-userid with an empty prefix")
	}
}

// TestKubeflowDeployConfigLoads keeps deploy/kubeflow/config.yaml (the
// ConfigMap deploy/kubeflow builds; the deploy module checks it is that
// file) honest: it loads with this package, Dex in-cluster and KFP's
// service-account audience included.
func TestKubeflowDeployConfigLoads(t *testing.T) {
	raw, err := os.ReadFile("../deploy/kubeflow/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	MustWriteFile(t, dir, "signing-key.pem", MustECKeyPEM(t, elliptic.P256(), false))
	MustWriteFile(t, dir, "redis-password", []byte("redis-pw\n"))
	MustWriteFile(t, dir, "client-secret", []byte("client-secret\n"))
	MustWriteFile(t, dir, "session-key", []byte(strings.Repeat("k", 48)))
	c, err := Parse(strings.NewReader(strings.ReplaceAll(string(raw), "/var/run/secrets/idgate/", dir+string(filepath.Separator))), nil)
	if err != nil {
		t.Fatalf("deploy/kubeflow/config.yaml does not load: %v", err)
	}
	dex, k8s := c.Issuers[0], c.Issuers[1]
	if dex.Issuer != "http://dex.auth.svc.cluster.local:5556/dex" || !dex.InsecureHTTP || !dex.SkipDiscovery || c.Login.Issuer != dex.Issuer ||
		c.Login.AuthorizationEndpoint != "/dex/auth" || c.Login.TokenEndpoint != dex.Issuer+"/token" {
		t.Errorf("Dex in-cluster: %+v login %+v", dex, c.Login)
	}
	if k8s.UserClaim != "sub" || !slices.Contains(k8s.Audiences, "pipelines.kubeflow.org") {
		t.Errorf("service-account issuer: %+v", k8s)
	}
	if len(c.TrustedForwarders) != 2 || c.Outputs.Kubeflow.UserIDPrefix != "" || !slices.Contains(c.Login.Scopes, "groups") {
		t.Errorf("forwarders %+v, prefix %q, scopes %v", c.TrustedForwarders, c.Outputs.Kubeflow.UserIDPrefix, c.Login.Scopes)
	}
}
