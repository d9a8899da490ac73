package decision

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/outputs"
	"github.com/idgate/idgate/signing"
)

// profileEnricher merges a fixed userinfo profile, as userinfo.Resolver does.
type profileEnricher map[string]identity.Profile

func (p profileEnricher) Enrich(_ context.Context, id *identity.Identity, _ string) string {
	if prof, ok := p[id.Subject]; ok {
		id.Merge(&prof)
	}
	return ""
}

// TestUnverifiedEmailIsNoIdentity: an email the IdP marks unverified (or
// one in a domain its issuer may not assert) is never a user id and passes
// no email-domain rule, whether it came in the token or from userinfo.
func TestUnverifiedEmailIsNoIdentity(t *testing.T) {
	key, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := outputs.New(outputs.Config{UserIDHeader: "kubeflow-userid", GroupsHeader: "kubeflow-groups",
		FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute}, key)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	ident := func(iss, sub, email string, v identity.Verified, claim string) identity.Identity {
		return identity.Identity{Issuer: iss, Subject: sub, Email: email, EmailVerified: v, UserClaim: claim, ExpiresAt: exp}
	}
	const corp, social, strict, lax = "https://corp", "https://social", "https://strict", "https://lax"
	e, err := New(Config{
		Routes: []Route{{PathPrefix: "/corp", AllowEmailDomains: []string{"corp.com"}}},
		Verifier: tableVerifier{
			"verified":            ident(corp, "s1", "ceo@corp.com", identity.VerifiedTrue, "email"),
			"unverified":          ident(corp, "s2", "ceo@corp.com", identity.VerifiedFalse, "email"),
			"absent":              ident(corp, "s3", "ceo@corp.com", identity.VerifiedAbsent, "email"),
			"strict-absent":       ident(strict, "s4", "ceo@corp.com", identity.VerifiedAbsent, "email"),
			"strict-verified":     ident(strict, "s5", "ceo@corp.com", identity.VerifiedTrue, "email"),
			"lax-unverified":      ident(lax, "s6", "ceo@corp.com", identity.VerifiedFalse, "email"),
			"userinfo-fills":      ident(corp, "s7", "", identity.VerifiedTrue, "email"),
			"by-sub-unverified":   ident(corp, "s8", "ceo@corp.com", identity.VerifiedFalse, "sub"),
			"corp-asserts-gmail":  ident(corp, "s9", "x@gmail.com", identity.VerifiedTrue, "email"),
			"social-asserts-corp": ident(social, "s10", "ceo@corp.com", identity.VerifiedTrue, "email"),
			"social-own-domain":   ident(social, "s11", "me@gmail.com", identity.VerifiedTrue, "email"),
		},
		Enricher: profileEnricher{"s7": {Subject: "s7", Email: "ceo@corp.com", EmailVerified: identity.VerifiedFalse}},
		Renderer: r,
		EmailPolicies: map[string]identity.EmailPolicy{
			corp:   {Domains: []string{"corp.com"}},
			social: {Domains: []string{"gmail.com"}},
			strict: {Verified: identity.EmailVerifiedRequired},
			lax:    {Verified: identity.EmailVerifiedIgnore},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token, path string
		wantStatus  int
		wantReason  string
		wantUser    string
	}{
		{"verified", "/corp", 200, "ok", "ceo@corp.com"},
		{"unverified", "/api", 403, "unverified_email", ""},
		{"unverified", "/corp", 403, "unverified_email", ""},
		{"absent", "/corp", 200, "ok", "ceo@corp.com"},
		{"strict absent", "/api", 403, "unverified_email", ""},
		{"strict verified", "/api", 200, "ok", "ceo@corp.com"},
		{"lax unverified", "/corp", 200, "ok", "ceo@corp.com"},
		{"userinfo fills", "/api", 403, "unverified_email", ""},
		{"by sub unverified", "/api", 200, "ok", "s8"},
		{"by sub unverified", "/corp", 403, "forbidden", ""},
		{"corp asserts gmail", "/api", 403, "unverified_email", ""},
		{"social asserts corp", "/corp", 403, "unverified_email", ""},
		{"social own domain", "/api", 200, "ok", "me@gmail.com"},
	}
	for _, tc := range tests {
		t.Run(tc.token+" "+tc.path, func(t *testing.T) {
			res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: tc.path,
				Headers: map[string]string{"authorization": "Bearer " + strings.ReplaceAll(tc.token, " ", "-")}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.wantStatus || res.Reason != tc.wantReason {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Reason, tc.wantStatus, tc.wantReason)
			}
			user := ""
			for _, h := range res.Set {
				if h.Name == "kubeflow-userid" {
					user = h.Value
				}
			}
			if user != tc.wantUser {
				t.Fatalf("kubeflow-userid = %q, want %q", user, tc.wantUser)
			}
		})
	}
}
