package outputs

import (
	"fmt"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/testclock"
)

// TestSignedCacheByteBound: signed tokens of identities with hundreds of
// groups (each several KB) fill the reuse cache's bytes before its entries.
func TestSignedCacheByteBound(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) { c.CacheSize = 10; c.ALB.Enabled = false })
	groups := make([]string, 200)
	for i := range groups {
		groups[i] = fmt.Sprintf("a-rather-long-group-name-%04d", i)
	}
	for i := 0; i < 10; i++ {
		id := &identity.Identity{Issuer: "https://idp", Subject: fmt.Sprint("u", i), Email: "u@corp.com", Groups: groups}
		if _, err := s.r.Render(nil, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.r.tokens.c.Len(); n < 1 || n > 5 {
		t.Fatalf("reuse cache holds %d tokens of ~8 KB, want 1 to 5 (bound 10 entries, 20 KiB)", n)
	}
}

// TestFingerprintFieldBoundaries: moving bytes from one claim to the next,
// or between groups, changes the fingerprint (fields are length-prefixed).
func TestFingerprintFieldBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b flyteClaims
	}{
		{"subject and email", flyteClaims{Subject: "ab", Email: "c"}, flyteClaims{Subject: "a", Email: "bc"}},
		{"groups split", flyteClaims{Groups: []string{"a", "b"}}, flyteClaims{Groups: []string{"ab"}}},
		{"group or name", flyteClaims{Groups: []string{"x"}}, flyteClaims{IdP: "\x01x"}},
		{"email_verified", flyteClaims{Email: "e", EmailVerified: identity.VerifiedTrue}, flyteClaims{Email: "e", EmailVerified: identity.VerifiedFalse}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.a.fingerprint() == tc.b.fingerprint() {
				t.Fatal("same fingerprint")
			}
		})
	}
}
