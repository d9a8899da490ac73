package outputs

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/signing"
)

// TestValueEncodingInjective: distinct user ids and groups never give the
// same header value, whatever mix of '%', non-ASCII and plain text.
func TestValueEncodingInjective(t *testing.T) {
	inputs := []string{"é@corp.com", "%C3%A9@corp.com", "%25C3%25A9@corp.com", "%", "%25", "a%b", "a%25b",
		"a,b", "a%2Cb", "alice@corp.com", "ALICE@corp.com", " admins", "admins"}
	users, groups := map[string]string{}, map[string]string{}
	for _, in := range inputs {
		u, ok := headerValue(in)
		if !ok {
			t.Fatalf("headerValue(%q) refused", in)
		}
		if prev, dup := users[u]; dup {
			t.Fatalf("user ids %q and %q both give %q", prev, in, u)
		}
		users[u] = in
		g, _ := groupsValue([]string{in})
		if prev, dup := groups[g]; dup {
			t.Fatalf("groups %q and %q both give %q", prev, in, g)
		}
		groups[g] = in
	}
}

type signedRenderer struct {
	r   *Renderer
	key *signing.Key
}

func mustSignedRenderer(t *testing.T, clk *testclock.Clock, edit func(*Config)) signedRenderer {
	t.Helper()
	key, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		UserIDHeader: "kubeflow-userid", GroupsHeader: "kubeflow-groups",
		FlyteHeader: "x-flyte-identity", FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute,
		Issuer: "idgate", Now: clk.Now, ALB: ALBConfig{Enabled: true, Client: "web"},
	}
	if edit != nil {
		edit(&cfg)
	}
	r, err := New(cfg, key)
	if err != nil {
		t.Fatal(err)
	}
	return signedRenderer{r, key}
}

// payloads renders id and returns the headers and the decoded payloads of
// x-flyte-identity and x-amzn-oidc-data.
func (s signedRenderer) payloads(t *testing.T, id *identity.Identity) (hs map[string]string, flyte, alb map[string]any) {
	t.Helper()
	hs = headerMap(mustRender(t, s.r, id))
	decode := func(name string) map[string]any {
		payload, err := signing.Verify(s.key.Public(), hs[name], base64.RawURLEncoding)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(payload, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return hs, decode("x-flyte-identity"), decode(ALBData)
}

// TestSignedNeverOutlivesSourceToken: a signed value cached for a user's
// long-lived token is not reused for the same user's token that expires
// sooner; its exp never passes the token's.
func TestSignedNeverOutlivesSourceToken(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, nil)
	long := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@corp.com", ExpiresAt: clk.Now().Add(time.Hour)}
	s.payloads(t, &long)
	short := long
	short.ExpiresAt = clk.Now().Add(40 * time.Second)
	_, flyte, alb := s.payloads(t, &short)
	want := float64(short.ExpiresAt.Unix())
	if flyte["exp"] != want || alb["exp"] != want {
		t.Fatalf("exp: flyte %v, alb %v; want %v (the source token's)", flyte["exp"], alb["exp"], want)
	}
	// The long token's value is still served to the long token.
	_, flyte, _ = s.payloads(t, &long)
	if flyte["exp"] != float64(clk.Now().Add(5*time.Minute).Unix()) {
		t.Fatalf("long token exp = %v", flyte["exp"])
	}
}

// TestSignedEmailVerified: the signed headers carry email_verified as the
// IdP said it (absent stays absent), a change of it is a new value rather
// than a reused stale one, and a refused email is left out with false.
func TestSignedEmailVerified(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, nil)
	base := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@corp.com", ExpiresAt: clk.Now().Add(time.Hour)}
	tests := []struct {
		name      string
		verified  identity.Verified
		refused   string
		wantEmail any
		want      any // nil: absent
		wantUser  string
	}{
		{"true", identity.VerifiedTrue, "", "a@corp.com", true, "a@corp.com"},
		{"then false: not the cached true", identity.VerifiedFalse, "", "a@corp.com", false, "a@corp.com"},
		{"absent", identity.VerifiedAbsent, "", "a@corp.com", nil, "a@corp.com"},
		{"refused: no email, false, no user id", identity.VerifiedFalse, identity.EmailUnverified, nil, false, ""},
		{"refused domain", identity.VerifiedTrue, identity.EmailOtherDomain, nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := base
			id.EmailVerified, id.EmailRefused = tc.verified, tc.refused
			hs, flyte, alb := s.payloads(t, &id)
			for name, p := range map[string]map[string]any{"flyte": flyte, "alb": alb} {
				if p["email_verified"] != tc.want || p["email"] != tc.wantEmail {
					t.Errorf("%s: email %v, email_verified %v; want %v, %v", name, p["email"], p["email_verified"], tc.wantEmail, tc.want)
				}
			}
			if hs["kubeflow-userid"] != tc.wantUser {
				t.Errorf("kubeflow-userid = %q, want %q", hs["kubeflow-userid"], tc.wantUser)
			}
		})
	}
}

// TestIssuerUserIDPrefix: an issuer's own prefix replaces the global one, so
// the same email from two issuers is two users.
func TestIssuerUserIDPrefix(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) {
		c.UserIDPrefix = "corp:"
		c.IssuerUserIDPrefix = map[string]string{"https://social": "social:", "https://plain": ""}
	})
	tests := []struct{ issuer, want string }{
		{"https://corp", "corp:a@corp.com"},
		{"https://social", "social:a@corp.com"},
		{"https://plain", "a@corp.com"},
	}
	for _, tc := range tests {
		t.Run(tc.issuer, func(t *testing.T) {
			id := identity.Identity{Issuer: tc.issuer, Subject: "u1", Email: "a@corp.com", ExpiresAt: clk.Now().Add(time.Hour)}
			if got := headerMap(mustRender(t, s.r, &id))["kubeflow-userid"]; got != tc.want {
				t.Fatalf("kubeflow-userid = %q, want %q", got, tc.want)
			}
		})
	}
}
