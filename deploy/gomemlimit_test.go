package deploy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// goMemLimit parses a GOMEMLIMIT value (Go's syntax: a number with an
// optional B, KiB, MiB or GiB suffix) in bytes.
func goMemLimit(t *testing.T, v string) int64 {
	t.Helper()
	for suffix, unit := range map[string]string{"GiB": "Gi", "MiB": "Mi", "KiB": "Ki"} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			q := resource.MustParse(n + unit)
			return q.Value()
		}
	}
	q, err := resource.ParseQuantity(strings.TrimSuffix(v, "B"))
	if err != nil {
		t.Fatalf("GOMEMLIMIT %q: %v", v, err)
	}
	return q.Value()
}

// TestGOMEMLIMITBelowMemoryLimit: the idgate container sets GOMEMLIMIT to
// 70–90% of its memory limit, so the runtime collects before the kernel
// kills it and non-heap memory has room.
func TestGOMEMLIMITBelowMemoryLimit(t *testing.T) {
	for _, dir := range overlays[:2] {
		t.Run(dir, func(t *testing.T) {
			_, c := idgateContainer(t, MustBuild(t, dir))
			limit := c.Resources.Limits[corev1.ResourceMemory]
			var v string
			for _, e := range c.Env {
				if e.Name == "GOMEMLIMIT" {
					v = e.Value
				}
			}
			if v == "" {
				t.Fatal("no GOMEMLIMIT value in the idgate container")
			}
			if got, max := goMemLimit(t, v), limit.Value(); got < max*7/10 || got > max*9/10 {
				t.Fatalf("GOMEMLIMIT %s is %d%% of limits.memory %s, want 70-90%%", v, got*100/max, limit.String())
			}
		})
	}
}

// TestDockerfileSetsGOMEMLIMIT: the image has a GOMEMLIMIT default for
// containers run without the manifests.
func TestDockerfileSetsGOMEMLIMIT(t *testing.T) {
	ins := parseDockerfile(string(MustReadFile(t, "../Dockerfile")))
	last := ins[len(ins)-1].Stage
	for _, in := range ins {
		if in.Stage != last || in.Cmd != "ENV" {
			continue
		}
		for _, w := range shellWords(in.Args) {
			if v, ok := strings.CutPrefix(w, "GOMEMLIMIT="); ok && goMemLimit(t, v) > 0 {
				return
			}
		}
	}
	t.Fatal("the final stage sets no GOMEMLIMIT")
}
