package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/idgate/idgate/config"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

const (
	chartDir = "helm/idgate"
	// secretsDir is where the chart mounts the idgate Secret.
	secretsDir = "/var/run/secrets/idgate"
)

// Rendered is one `helm template` of the chart: every document, decoded.
type Rendered struct {
	Objects []Object
	// Values are the values the templates saw, after defaults and schema.
	Values chartutil.Values
}

// MustLoadChart loads deploy/helm/idgate as `helm` does (honouring
// .helmignore).
func MustLoadChart(tb testing.TB) *chart.Chart {
	tb.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		tb.Fatalf("load chart %s: %v", chartDir, err)
	}
	return c
}

// renderValues merges vals over the chart's values.yaml and validates them
// against values.schema.json, as `helm template` does before rendering.
func renderValues(c *chart.Chart, vals map[string]any, namespace string) (chartutil.Values, error) {
	opts := chartutil.ReleaseOptions{Name: "idgate", Namespace: namespace, Revision: 1, IsInstall: true}
	return chartutil.ToRenderValues(c, vals, opts, chartutil.DefaultCapabilities)
}

// MustRender is `helm template idgate deploy/helm/idgate -n namespace` with
// the given values files (paths relative to deploy/) and overrides, every
// document strictly decoded into its API type.
func MustRender(tb testing.TB, namespace string, valuesFiles []string, overrides map[string]any) Rendered {
	tb.Helper()
	c := MustLoadChart(tb)
	vals := map[string]any{}
	for _, f := range valuesFiles {
		v, err := chartutil.ReadValuesFile(f)
		if err != nil {
			tb.Fatalf("values %s: %v", f, err)
		}
		vals = chartutil.CoalesceTables(v.AsMap(), vals)
	}
	vals = chartutil.CoalesceTables(overrides, vals)
	rv, err := renderValues(c, vals, namespace)
	if err != nil {
		tb.Fatalf("values: %v", err)
	}
	out, err := engine.Render(c, rv)
	if err != nil {
		tb.Fatalf("render: %v", err)
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	var r Rendered
	r.Values, _ = rv.Table("Values")
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range docSeparator.Split(out[name], -1) {
			if isBlankYAML(doc) {
				continue
			}
			o, err := decodeObject([]byte(doc))
			if err != nil {
				tb.Fatalf("%s document %d: %v\n%s", name, i, err, doc)
			}
			if o.Meta.Name == "" {
				tb.Errorf("%s document %d: no metadata.name", name, i)
			}
			r.Objects = append(r.Objects, o)
		}
	}
	if len(r.Objects) == 0 {
		tb.Fatalf("the chart rendered nothing")
	}
	return r
}

// configMap returns the rendered ConfigMap named name, or fails.
func (r Rendered) configMap(tb testing.TB, name string) *corev1.ConfigMap {
	tb.Helper()
	for _, cm := range find[corev1.ConfigMap](r.Objects) {
		if cm.Name == name {
			return cm
		}
	}
	tb.Fatalf("no ConfigMap %q rendered", name)
	return nil
}

// MustSecretFiles writes the files the idgate Secret holds (docs/deploying.md, "Helm")
// into a directory standing for its mount, /var/run/secrets/idgate.
func MustSecretFiles(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	random := func() string {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			tb.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	for name, data := range map[string][]byte{
		"signing-key.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"session-key":     []byte(random() + "\n"),
		"client-secret":   []byte(random() + "\n"),
		"redis-password":  []byte(random() + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// MustLoadIdgateConfig loads a rendered config.yaml with idgate's own config
// package, as `idgate serve --config` does, with the Secret's files present.
func MustLoadIdgateConfig(tb testing.TB, configYAML string) *config.Config {
	tb.Helper()
	if !strings.Contains(configYAML, secretsDir+"/") {
		tb.Fatalf("the rendered config names no file under %s", secretsDir)
	}
	data := strings.ReplaceAll(configYAML, secretsDir+"/", MustSecretFiles(tb)+"/")
	cfg, err := config.Parse(strings.NewReader(data), nil)
	if err != nil {
		tb.Fatalf("idgate config rendered by the chart does not load: %v\n%s", err, configYAML)
	}
	return cfg
}

// port returns the port of a host:port address.
func port(tb testing.TB, addr string) int32 {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		tb.Fatalf("address %q: %v", addr, err)
	}
	return int32(n)
}

// containerPort returns the number of a container's named port, or fails.
func containerPort(tb testing.TB, c corev1.Container, name string) int32 {
	tb.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	tb.Fatalf("container %s has no port %q", c.Name, name)
	return 0
}

// mountedVolume returns the pod volume mounted at path in c.
func mountedVolume(tb testing.TB, vols []corev1.Volume, c corev1.Container, path string) corev1.Volume {
	tb.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range vols {
			if v.Name == m.Name {
				return v
			}
		}
		tb.Fatalf("container %s mounts %s from volume %q, which the pod does not have", c.Name, path, m.Name)
	}
	tb.Fatalf("container %s mounts nothing at %s", c.Name, path)
	return corev1.Volume{}
}

// gatewayDeployment returns the rendered idgate Deployment and its container.
func gatewayDeployment(tb testing.TB, r Rendered) (*appsv1.Deployment, corev1.Container) {
	tb.Helper()
	findOne[appsv1.Deployment](tb, r.Objects, "Deployment")
	return idgateContainer(tb, r.Objects)
}

// assertPublicExact: a loaded config (presets expanded) has a public route
// for exactly path.
func assertPublicExact(t *testing.T, cfg *config.Config, path string) {
	t.Helper()
	for _, r := range cfg.Routes {
		if r.PathPrefix == path && r.Public && r.ExactPath {
			return
		}
	}
	t.Errorf("no public exact route for %s in %+v", path, cfg.Routes)
}
