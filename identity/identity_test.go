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
		{"string list", []string{" x ", "", "x"}, []string{"x"}},
		{"comma string", "ml, admins,ml", []string{"admins", "ml"}},
		{"space string", "ml admins\tops", []string{"admins", "ml", "ops"}},
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
	id.Merge(&Profile{Subject: "s", Email: "userinfo@example.com", EmailVerified: true, Name: "N", Groups: []string{"z", "a", "z"}})
	if id.Email != "token@example.com" || id.EmailVerified || id.Name != "N" || !slices.Equal(id.Groups, []string{"a", "z"}) {
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
}
