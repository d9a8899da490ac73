package userinfo

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/identity"
)

// FuzzParseProfile feeds arbitrary userinfo bodies to the parser: it must
// never panic, and nothing it returns may carry CR, LF or NUL.
func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(`{"sub":"s","email":"a@example.com","email_verified":"true","groups":"a, b c"}`))
	f.Add([]byte(`{"sub":"s","name":"a\r\nb","groups":["x","y\u0000"]}`))
	f.Add([]byte(`[1,2]`))
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	r := &Resolver{metrics: m}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := r.parseProfile(body)
		if err != nil {
			return
		}
		p.Subject = "" // compared to the token's sub, never emitted on its own
		if !profileSafe(&p) {
			t.Fatalf("unsafe profile %+v from %q", p, body)
		}
	})
}

// TestParseProfileExactNames: userinfo members are read by exact name, a
// name given twice is malformed, and email_verified keeps three states.
func TestParseProfileExactNames(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{metrics: m}
	tests := []struct {
		name    string
		body    string
		want    identity.Profile
		wantErr bool
	}{
		{name: "case variants are other claims", body: `{"sub":"s","EMAIL":"root@corp.com","Groups":["admins"],"Name":"Root"}`,
			want: identity.Profile{Subject: "s"}},
		{name: "Sub is not sub", body: `{"Sub":"s"}`, want: identity.Profile{}},
		{name: "duplicate email", body: `{"sub":"s","email":"a@corp.com","email":"root@corp.com"}`, wantErr: true},
		{name: "duplicate sub spelled with an escape", body: `{"sub":"s","s\u0075b":"t"}`, wantErr: true},
		{name: "email_verified false", body: `{"sub":"s","email":"a@x","email_verified":false}`,
			want: identity.Profile{Subject: "s", Email: "a@x", EmailVerified: identity.VerifiedFalse}},
		{name: "email_verified string false", body: `{"sub":"s","email":"a@x","email_verified":"false"}`,
			want: identity.Profile{Subject: "s", Email: "a@x", EmailVerified: identity.VerifiedFalse}},
		{name: "email_verified absent", body: `{"sub":"s","email":"a@x"}`,
			want: identity.Profile{Subject: "s", Email: "a@x"}},
		{name: "email of the wrong type", body: `{"sub":"s","email":5}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.parseProfile([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseProfile error = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseProfile = %+v, want %+v", got, tc.want)
			}
		})
	}
}
