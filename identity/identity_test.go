package identity

import (
	"slices"
	"testing"
)

func TestParseGroups(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []string
	}{
		{"list", []any{"b", "a", "b"}, []string{"a", "b"}},
		{"string list: empties dropped, never trimmed", []string{" x ", "", "x", "x"}, []string{" x ", "x"}},
		{"a string is one group", "not admins", []string{"not admins"}},
		{"a string with a comma is one group", "ml, admins", []string{"ml, admins"}},
		{"leading space kept", " admins", []string{" admins"}},
		{"list entries never trimmed into another", []any{" admins", "admins "}, []string{" admins", "admins "}},
		{"mixed types dropped", []any{"a", 1, nil, true}, []string{"a"}},
		{"number", 42, nil},
		{"empty", "", nil},
		{"nil", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseGroups(tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("ParseGroups(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMergeTokenWins(t *testing.T) {
	id := Identity{Subject: "s", Email: "token@example.com", UserClaim: "email"}
	id.Merge(&Profile{Subject: "s", Email: "userinfo@example.com", EmailVerified: VerifiedTrue, Name: "N", Groups: []string{"z", "a", "z"}})
	if id.Email != "token@example.com" || id.EmailVerified != VerifiedAbsent || id.Name != "N" || !slices.Equal(id.Groups, []string{"a", "z"}) {
		t.Fatalf("merge = %+v", id)
	}
	other := Identity{Subject: "s"}
	other.Merge(&Profile{Subject: "someone-else", Email: "x@example.com"})
	if other.Email != "" {
		t.Fatal("a profile of another subject was merged")
	}
}

func TestClaimAndUserID(t *testing.T) {
	id := Identity{Subject: "system:serviceaccount:kubeflow:ml-pipeline-scheduledworkflow", Email: "e@x", Extra: map[string]string{"upn": "u@corp"}}
	tests := []struct{ claim, want string }{
		{"", "e@x"}, {"email", "e@x"}, {"sub", id.Subject}, {"upn", "u@corp"}, {"missing", ""},
	}
	for _, tc := range tests {
		t.Run(tc.claim, func(t *testing.T) {
			id.UserClaim = tc.claim
			if got := id.UserID(); got != tc.want {
				t.Fatalf("UserID() with user_claim %q = %q, want %q", tc.claim, got, tc.want)
			}
		})
	}
	t.Run("refused email is no user id", func(t *testing.T) {
		for _, claim := range []string{"", "email"} {
			refused := Identity{Subject: "s", Email: "e@x", UserClaim: claim, EmailRefused: EmailUnverified}
			if got := refused.UserID(); got != "" {
				t.Fatalf("UserID() of a refused email = %q", got)
			}
		}
		bySub := Identity{Subject: "s", Email: "e@x", UserClaim: "sub", EmailRefused: EmailUnverified}
		if got := bySub.UserID(); got != "s" {
			t.Fatalf("UserID() by sub = %q", got)
		}
	})
}

func TestMergeUserinfoVerified(t *testing.T) {
	tests := []struct {
		name  string
		token Identity
		p     Profile
		want  Verified
	}{
		{"userinfo email brings its false", Identity{Subject: "s", EmailVerified: VerifiedTrue},
			Profile{Subject: "s", Email: "a@x", EmailVerified: VerifiedFalse}, VerifiedFalse},
		{"userinfo email brings its absent", Identity{Subject: "s", EmailVerified: VerifiedTrue},
			Profile{Subject: "s", Email: "a@x"}, VerifiedAbsent},
		{"token email keeps its false", Identity{Subject: "s", Email: "t@x", EmailVerified: VerifiedFalse},
			Profile{Subject: "s", Email: "a@x", EmailVerified: VerifiedTrue}, VerifiedFalse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.token
			id.Merge(&tc.p)
			if id.EmailVerified != tc.want {
				t.Fatalf("EmailVerified = %v, want %v", id.EmailVerified, tc.want)
			}
		})
	}
}
