package config

import (
	"crypto/elliptic"
	"os"
	"path/filepath"
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
	if !c.Login.Enabled() || c.Login.ClientSecret != "client-secret" || len(c.Login.SessionKeys()) != 1 || c.Cache.Redis.Password != "redis-pw" {
		t.Fatalf("secrets not read: login=%v", c.Login.Enabled())
	}
	if c.Outputs.Kubeflow.UserIDPrefix != "" || c.Outputs.Kubeflow.UserIDHeader != "kubeflow-userid" {
		t.Fatal("Kubeflow needs kubeflow-userid with an empty prefix")
	}
}
