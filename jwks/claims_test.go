package jwks_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// prepend returns an EditClaims that puts raw members first in the signed
// claims object, so they can repeat a name the map already holds.
func prepend(raw string) func([]byte) []byte {
	return func(b []byte) []byte {
		return append([]byte("{"+raw+","), bytes.TrimPrefix(b, []byte("{"))...)
	}
}

// TestClaimNamesExact: JSON names are case-sensitive, so "Groups", "EMAIL"
// and "Aud" are other claims, never groups, email or aud; and a signed
// object naming a claim twice means different things to different parsers,
// so it is malformed.
func TestClaimNamesExact(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, func(cfg *jwks.Config) { cfg.Issuers[0].UserClaim = "upn" })
	tests := []struct {
		name    string
		claims  map[string]any
		edit    func([]byte) []byte
		wantErr error
		check   func(t *testing.T, id identity.Identity)
	}{
		{name: "Groups is not groups", claims: map[string]any{"Groups": []string{"admins"}},
			check: func(t *testing.T, id identity.Identity) {
				if len(id.Groups) != 0 {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
		{name: "EMAIL is not email", claims: map[string]any{"email": nil, "EMAIL": "root@corp.com", "Email_Verified": true},
			check: func(t *testing.T, id identity.Identity) {
				if id.Email != "" || id.EmailVerified != identity.VerifiedAbsent {
					t.Fatalf("email = %q verified %v", id.Email, id.EmailVerified)
				}
			}},
		{name: "UPN is not the upn user claim", claims: map[string]any{"UPN": "root@corp.com"},
			check: func(t *testing.T, id identity.Identity) {
				if id.UserID() != "" {
					t.Fatalf("user id = %q", id.UserID())
				}
			}},
		{name: "Aud is not aud", claims: map[string]any{"aud": "other", "Aud": "idgate-dev"}, wantErr: jwks.ErrAudience},
		{name: "Exp is not exp", claims: map[string]any{"Exp": clk.Now().Unix() + 60},
			edit: func(b []byte) []byte { return bytes.Replace(b, []byte(`"exp":`), []byte(`"exP":`), 1) }, wantErr: jwks.ErrMalformed},
		{name: "escaped name is the claim",
			edit: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"email":"alice@example.com"`), []byte(`"\u0065mail":"e@corp.com"`), 1)
			},
			check: func(t *testing.T, id identity.Identity) {
				if id.Email != "e@corp.com" {
					t.Fatalf("email = %q", id.Email)
				}
			}},
		{name: "duplicate sub", edit: prepend(`"sub":"admin"`), wantErr: jwks.ErrMalformed},
		{name: "duplicate email spelled with an escape", edit: prepend(`"emai\u006c":"root@corp.com"`), wantErr: jwks.ErrMalformed},
		{name: "duplicate unknown claim", claims: map[string]any{"x": 1}, edit: prepend(`"x":2`), wantErr: jwks.ErrMalformed},
		{name: "groups as one string is one group", claims: map[string]any{"groups": "not admins"},
			check: func(t *testing.T, id identity.Identity) {
				if !slices.Equal(id.Groups, []string{"not admins"}) {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
		{name: "group names never trimmed", claims: map[string]any{"groups": []string{" admins", ""}},
			check: func(t *testing.T, id identity.Identity) {
				if !slices.Equal(id.Groups, []string{" admins"}) {
					t.Fatalf("groups = %q", id.Groups)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := MustMint(t, p, tc.claims, devidp.MintOptions{EditClaims: tc.edit})
			id, err := v.Verify(context.Background(), tok)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, id)
			}
		})
	}
}

// TestEmailVerifiedTriState: the identity keeps present-true,
// present-false and absent apart (a string "false" is false, not absent).
func TestEmailVerifiedTriState(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	tests := []struct {
		name  string
		value any
		want  identity.Verified
	}{
		{"true", true, identity.VerifiedTrue},
		{"string true", "true", identity.VerifiedTrue},
		{"false", false, identity.VerifiedFalse},
		{"string false", "false", identity.VerifiedFalse},
		{"number", 1, identity.VerifiedFalse},
		{"null", nil, identity.VerifiedAbsent},
		{"absent", "absent", identity.VerifiedAbsent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"email_verified": tc.value}
			if tc.value == "absent" {
				claims = nil
			}
			id, err := v.Verify(context.Background(), MustMint(t, p, claims, devidp.MintOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			if id.EmailVerified != tc.want {
				t.Fatalf("EmailVerified = %v, want %v", id.EmailVerified, tc.want)
			}
		})
	}
}
