package outputs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/signing"
)

// oauth2ProxyHeaders are the headers the Flyte chart's oauth2-proxy advice
// has Flyte read, declared as an operator would.
var oauth2ProxyHeaders = []HeaderOutput{
	{Name: "X-Auth-Request-Email", Claim: "email"},
	{Name: "x-auth-request-user", Claim: "preferred_username"},
	{Name: "x-auth-request-groups", Claim: "groups"},
	{Name: "x-name", Claim: "name"},
	{Name: "x-upn", Claim: "upn"},
	{Name: "x-email-wrong-case", Claim: "Email"},
}

func mustDeclared(t *testing.T, clk *testclock.Clock, headers []HeaderOutput) *Renderer {
	t.Helper()
	key, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{UserIDHeader: "kubeflow-userid", GroupsHeader: "kubeflow-groups",
		FlyteHeader: "x-flyte-identity", FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute, Issuer: "idgate", Now: clk.Now,
		Headers: headers}, key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDeclaredHeaders: a declared header carries its claim encoded as
// kubeflow-userid is, is absent (not empty) when the claim is, and names
// claims exactly.
func TestDeclaredHeaders(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	r := mustDeclared(t, clk, oauth2ProxyHeaders)
	base := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "alice@example.com",
		PreferredUsername: "alice", Name: "Alice", Groups: []string{"admins", "ml"}, ExpiresAt: clk.Now().Add(time.Hour)}
	absent := "<absent>"
	tests := []struct {
		name    string
		mutate  func(*identity.Identity)
		want    map[string]string // "<absent>": no header at all
		wantErr error
	}{
		{name: "all present", want: map[string]string{"x-auth-request-email": "alice@example.com",
			"x-auth-request-user": "alice", "x-auth-request-groups": "admins,ml", "x-name": "Alice",
			"x-upn": absent, "x-email-wrong-case": absent}},
		{name: "missing claims are absent, not empty", mutate: func(id *identity.Identity) {
			id.PreferredUsername, id.Groups, id.Name = "", nil, ""
		}, want: map[string]string{"x-auth-request-user": absent, "x-auth-request-groups": absent, "x-name": absent}},
		{name: "refused email is no email", mutate: func(id *identity.Identity) {
			id.EmailVerified, id.EmailRefused = identity.VerifiedFalse, identity.EmailUnverified
		}, want: map[string]string{"x-auth-request-email": absent, "x-auth-request-user": "alice"}},
		{name: "non-ascii and percent encoded injectively", mutate: func(id *identity.Identity) {
			id.PreferredUsername, id.Name = "jürgen", "%C3%BC"
		}, want: map[string]string{"x-auth-request-user": "j%C3%BCrgen", "x-name": "%25C3%25BC"}},
		{name: "groups with a comma stay a list", mutate: func(id *identity.Identity) {
			id.Groups = []string{"a,b", "c"}
		}, want: map[string]string{"x-auth-request-groups": "a%2Cb,c"}},
		{name: "custom claim from the issuer's user_claim", mutate: func(id *identity.Identity) {
			id.UserClaim, id.Extra = "upn", map[string]string{"upn": "alice@corp"}
		}, want: map[string]string{"x-upn": "alice@corp"}},
		{name: "control character denies", mutate: func(id *identity.Identity) {
			id.PreferredUsername = "alice\r\nx-auth-request-user: root"
		}, wantErr: ErrUnsafeUserID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := base
			if tc.mutate != nil {
				tc.mutate(&id)
			}
			got, err := r.Render(nil, &id, "")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := headerMap(got)
			for name, want := range tc.want {
				v, ok := m[name]
				if want == absent && ok || want != absent && v != want {
					t.Errorf("%s = %q (present %v), want %q", name, v, ok, want)
				}
			}
			for _, h := range got {
				if h.Value == "" || strings.ContainsAny(h.Value, "\r\n\x00") {
					t.Errorf("%s = %q", h.Name, h.Value)
				}
			}
		})
	}
}

// TestOutputTable: built-in and declared outputs are one table, in write
// order; Names (the strip list's source) lists each once, lower-case.
func TestOutputTable(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) { c.Headers = oauth2ProxyHeaders[:2] })
	want := []string{"kubeflow-userid", "kubeflow-groups", "x-flyte-identity", ALBIdentity, ALBAccessToken, ALBData,
		"x-auth-request-email", "x-auth-request-user"}
	if got := s.r.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	id := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@corp.com", PreferredUsername: "a",
		Groups: []string{"g"}, ExpiresAt: clk.Now().Add(time.Hour)}
	got, err := s.r.Render(nil, &id, "at")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range got {
		names = append(names, h.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("rendered %q, want %q", names, want)
	}
}

// TestDeclaredHeadersRefused: a declared header may not be unnamed, an
// invalid name, nor another output's name in any spelling.
func TestDeclaredHeadersRefused(t *testing.T) {
	tests := []struct {
		name    string
		headers []HeaderOutput
	}{
		{"no name", []HeaderOutput{{Claim: "email"}}},
		{"no claim", []HeaderOutput{{Name: "x-email"}}},
		{"invalid name", []HeaderOutput{{Name: "x email", Claim: "email"}}},
		{"built-in name", []HeaderOutput{{Name: "Kubeflow-Userid", Claim: "email"}}},
		{"built-in name with underscores", []HeaderOutput{{Name: "x_flyte_identity", Claim: "sub"}}},
		{"twice", []HeaderOutput{{Name: "x-user", Claim: "sub"}, {Name: "X_User", Claim: "email"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{UserIDHeader: "kubeflow-userid", FlyteHeader: "x-flyte-identity",
				FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute, Headers: tc.headers},
				&signing.Key{})
			if err == nil || !strings.HasPrefix(err.Error(), "outputs: ") {
				t.Fatalf("New = %v, want an outputs error", err)
			}
		})
	}
}
