package outputs

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/testclock"
)

// FuzzDeclaredHeader: whatever a claim holds, a declared header is absent
// for an empty claim, refused (ErrUnsafeUserID) for a control character,
// and otherwise printable ASCII that percent-decodes back to the claim
// exactly; a groups header splits on "," and decodes back to the groups
// that can travel. Seeds are in testdata/fuzz/FuzzDeclaredHeader.
func FuzzDeclaredHeader(f *testing.F) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	// No signed header: the fuzzer spends its time on the values.
	r, err := New(Config{UserIDHeader: "kubeflow-userid", FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute, Now: clk.Now,
		Headers: []HeaderOutput{{Name: "x-user", Claim: "preferred_username"}, {Name: "x-groups", Claim: "groups"}}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, user, group1, group2 string) {
		groups := identity.NormalizeGroups([]string{group1, group2})
		id := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@corp.com", PreferredUsername: user,
			Groups: groups, ExpiresAt: clk.Now().Add(time.Hour)}
		got, err := r.Render(nil, &id, "")
		if err != nil {
			if !errors.Is(err, ErrUnsafeUserID) || !strings.ContainsFunc(user, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
				t.Fatalf("Render(%q) = %v", user, err)
			}
			return
		}
		m := headerMap(got)
		for _, h := range got {
			for i := 0; i < len(h.Value); i++ {
				if c := h.Value[i]; c < 0x20 || c > 0x7e {
					t.Fatalf("%s = %q: byte %#x", h.Name, h.Value, c)
				}
			}
		}
		v, ok := m["x-user"]
		if ok != (user != "") {
			t.Fatalf("x-user present %v for %q", ok, user)
		}
		if ok && decode(t, v) != user {
			t.Fatalf("x-user %q does not decode to %q", v, user)
		}
		var travel []string
		for _, g := range groups {
			if _, ok := headerValue(g); ok {
				travel = append(travel, g)
			}
		}
		gv, ok := m["x-groups"]
		if ok != (len(travel) > 0) {
			t.Fatalf("x-groups present %v for %q", ok, groups)
		}
		if !ok {
			return
		}
		var back []string
		for _, g := range strings.Split(gv, ",") {
			back = append(back, decode(t, g))
		}
		if !slices.Equal(back, travel) {
			t.Fatalf("x-groups %q decodes to %q, want %q", gv, back, travel)
		}
	})
}

// decode reads a value as docs/headers.md tells consumers to: one holding "%"
// is percent-encoded, one without it is literal.
func decode(t *testing.T, v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	d, err := url.PathUnescape(v)
	if err != nil {
		t.Fatalf("%q: %v", v, err)
	}
	return d
}
