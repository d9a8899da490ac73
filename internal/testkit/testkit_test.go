package testkit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShippedCodeDoesNotImportTestkit: no package the binary or bench/
// links, directly or not, is a test-only helper. (The Docker build leaves
// internal/testkit out of its context and would fail too, later.)
func TestShippedCodeDoesNotImportTestkit(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/idgate/idgate/cmd/idgate", "github.com/idgate/idgate/bench/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed %d packages; expected idgate's whole graph:\n%s", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/idgate/idgate/internal/testkit") {
			t.Errorf("%s is linked into a shipped program", p)
		}
	}
}
