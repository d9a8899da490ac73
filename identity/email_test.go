package identity

import (
	"encoding/json"
	"testing"
)

func TestParseVerified(t *testing.T) {
	tests := []struct {
		in   string
		want Verified
	}{
		{"true", VerifiedTrue}, {`"true"`, VerifiedTrue}, {"null", VerifiedAbsent}, {"", VerifiedAbsent},
		{"false", VerifiedFalse}, {`"false"`, VerifiedFalse}, {`"TRUE"`, VerifiedFalse}, {"1", VerifiedFalse},
		{`"yes"`, VerifiedFalse}, {"{}", VerifiedFalse},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := ParseVerified([]byte(tc.in)); got != tc.want {
				t.Fatalf("ParseVerified(%s) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestVerifiedJSON(t *testing.T) {
	for _, v := range []Verified{VerifiedAbsent, VerifiedTrue, VerifiedFalse} {
		b, err := json.Marshal(Profile{Subject: "s", Email: "a@x", EmailVerified: v})
		if err != nil {
			t.Fatal(err)
		}
		var back Profile
		if err := json.Unmarshal(b, &back); err != nil || back.EmailVerified != v {
			t.Fatalf("%v: %s -> %v, %v", v, b, back.EmailVerified, err)
		}
	}
	var id struct{ EmailVerified Verified }
	if err := json.Unmarshal([]byte(`{"EmailVerified":false}`), &id); err != nil || id.EmailVerified != VerifiedFalse {
		t.Fatalf("a stored bool false read as %v", id.EmailVerified)
	}
}

func TestEmailPolicyJudge(t *testing.T) {
	tests := []struct {
		name   string
		policy EmailPolicy
		email  string
		ev     Verified
		want   string
	}{
		{"default: true", EmailPolicy{}, "a@corp.com", VerifiedTrue, ""},
		{"default: absent", EmailPolicy{}, "a@corp.com", VerifiedAbsent, ""},
		{"default: false refused", EmailPolicy{}, "a@corp.com", VerifiedFalse, EmailUnverified},
		{"if_present: false refused", EmailPolicy{Verified: EmailVerifiedIfPresent}, "a@corp.com", VerifiedFalse, EmailUnverified},
		{"required: absent refused", EmailPolicy{Verified: EmailVerifiedRequired}, "a@corp.com", VerifiedAbsent, EmailUnverified},
		{"required: true", EmailPolicy{Verified: EmailVerifiedRequired}, "a@corp.com", VerifiedTrue, ""},
		{"ignore: false", EmailPolicy{Verified: EmailVerifiedIgnore}, "a@corp.com", VerifiedFalse, ""},
		{"no email: nothing to refuse", EmailPolicy{Verified: EmailVerifiedRequired}, "", VerifiedFalse, ""},
		{"domain allowed, any case", EmailPolicy{Domains: []string{"corp.com"}}, "a@CORP.com", VerifiedTrue, ""},
		{"other domain refused", EmailPolicy{Domains: []string{"corp.com"}}, "a@gmail.com", VerifiedTrue, EmailOtherDomain},
		{"subdomain is another domain", EmailPolicy{Domains: []string{"corp.com"}}, "a@evil.corp.com", VerifiedTrue, EmailOtherDomain},
		{"last @ decides", EmailPolicy{Domains: []string{"corp.com"}}, "a@corp.com@gmail.com", VerifiedTrue, EmailOtherDomain},
		{"no @ refused", EmailPolicy{Domains: []string{"corp.com"}}, "corp.com", VerifiedTrue, EmailOtherDomain},
		{"unverified beats domain", EmailPolicy{Domains: []string{"corp.com"}}, "a@corp.com", VerifiedFalse, EmailUnverified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := Identity{Subject: "s", Email: tc.email, EmailVerified: tc.ev}
			if got := tc.policy.Judge(&id); got != tc.want {
				t.Fatalf("Judge = %q, want %q", got, tc.want)
			}
		})
	}
}
