package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoIdgateDependencies: an upstream importing verify pulls in no other
// idgate package (and so none of its configuration, Redis or Envoy code).
func TestNoIdgateDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/idgate/idgate/verify").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/idgate/idgate") && p != "github.com/idgate/idgate/verify" {
			t.Errorf("verify depends on %s", p)
		}
		if !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
			continue // standard library
		}
		allowed := false
		for _, prefix := range []string{"github.com/idgate/idgate/verify", "github.com/lestrrat-go/", "google.golang.org/grpc", "google.golang.org/protobuf",
			"google.golang.org/genproto", "golang.org/x/", "github.com/goccy/go-json", "github.com/segmentio/asm", "github.com/decred/dcrd"} {
			allowed = allowed || strings.HasPrefix(p, prefix)
		}
		if !allowed {
			t.Errorf("verify depends on %s: neither stdlib, jwx/v2 nor grpc", p)
		}
	}
}
