package userinfo_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/idgate/idgate/userinfo"
)

// FetchProfile always asks the endpoint (a refresh needs the profile as it
// is now, not as cached), and says when the issuer has none.
func TestFetchProfile(t *testing.T) {
	p := newIDP(t, jsonProfile(janeProfile))
	cache := newMemCache()
	r, _ := MustNew(t, userinfo.Config{}, p, cache)
	id := tokenIdentity(newClock().Now().Add(3600e9))
	if reason := r.Enrich(context.Background(), id, testToken); reason != "" {
		t.Fatalf("Enrich degraded %q", reason)
	}
	p.set(jsonProfile(map[string]any{"sub": testSubject, "email": "jane@example.com", "groups": []string{"ml-platform"}}))
	got, err := r.FetchProfile(context.Background(), testIssuer, testSubject, testToken)
	if err != nil || got == nil || len(got.Groups) != 1 || got.Groups[0] != "ml-platform" {
		t.Fatalf("FetchProfile = %+v, %v; want the endpoint's current groups", got, err)
	}
	if p.calls.Load() != 2 {
		t.Fatalf("userinfo calls = %d, want 2 (no cache on FetchProfile)", p.calls.Load())
	}
	for _, tc := range []struct {
		name, issuer, subject string
		respond               http.HandlerFunc
		wantNil, wantErr      bool
	}{
		{"issuer without userinfo", "https://other.example", testSubject, nil, true, false},
		{"endpoint fails", testIssuer, testSubject, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", 503) }, true, true},
		{"another subject", testIssuer, "someone-else", jsonProfile(janeProfile), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.respond != nil {
				p.set(tc.respond)
			}
			got, err := r.FetchProfile(context.Background(), tc.issuer, tc.subject, testToken)
			if (got == nil) != tc.wantNil || (err != nil) != tc.wantErr {
				t.Fatalf("FetchProfile = %+v, %v", got, err)
			}
		})
	}
}
