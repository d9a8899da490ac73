package userinfo_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/userinfo"
)

func TestNewValidates(t *testing.T) {
	endpoint := func(string) string { return "" }
	bad := []struct {
		name  string
		cfg   userinfo.Config
		cache userinfo.Cache
	}{
		{"no endpoint", userinfo.Config{}, newMemCache()},
		{"no cache", userinfo.Config{Endpoint: endpoint}, nil},
		{"negative timeout", userinfo.Config{Endpoint: endpoint, Timeout: -1}, newMemCache()},
		{"negative profile ttl", userinfo.Config{Endpoint: endpoint, ProfileTTL: -1}, newMemCache()},
		{"negative negative ttl", userinfo.Config{Endpoint: endpoint, NegativeTTL: -1}, newMemCache()},
		{"negative body limit", userinfo.Config{Endpoint: endpoint, MaxBodyBytes: -1}, newMemCache()},
		{"zero timeout", func() userinfo.Config { c := userinfo.DefaultConfig(); c.Endpoint, c.Timeout = endpoint, 0; return c }(), newMemCache()},
		{"zero body limit", func() userinfo.Config {
			c := userinfo.DefaultConfig()
			c.Endpoint, c.MaxBodyBytes = endpoint, 0
			return c
		}(), newMemCache()},
		{"a bare Config", userinfo.Config{Endpoint: endpoint}, newMemCache()},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := userinfo.New(tc.cfg, tc.cache); err == nil {
				r.Close()
				t.Fatal("New succeeded, want error")
			}
		})
	}
}

func TestEnrichCollapsesConcurrentLookups(t *testing.T) {
	release := make(chan struct{})
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		jsonProfile(janeProfile)(w, r)
	})
	res, _ := MustNew(t, userinfo.Config{}, p, newMemCache())

	const n = 100
	var wg sync.WaitGroup
	ids := make([]*identity.Identity, n)
	reasons := make([]string, n)
	for i := range n {
		ids[i] = tokenIdentity(time.Time{})
		wg.Go(func() { reasons[i] = res.Enrich(context.Background(), ids[i], testToken) })
	}
	close(release)
	wg.Wait()
	if got := p.calls.Load(); got != 1 {
		t.Fatalf("userinfo calls = %d, want 1 for %d concurrent lookups", got, n)
	}
	for i := range n {
		if reasons[i] != "" || ids[i].Email != "jane@example.com" {
			t.Fatalf("caller %d: degraded %q, email %q", i, reasons[i], ids[i].Email)
		}
	}
}

func TestEnrichMerge(t *testing.T) {
	cases := []struct {
		name    string
		token   identity.Identity
		profile map[string]any
		want    identity.Identity
	}{
		{
			name:    "token claims win, profile fills the rest",
			token:   identity.Identity{Name: "Token Name", Groups: []string{"from-token"}},
			profile: janeProfile,
			want: identity.Identity{Name: "Token Name", Groups: []string{"from-token"},
				Email: "jane@example.com", EmailVerified: identity.VerifiedTrue, GivenName: "Jane", FamilyName: "Doe",
				PreferredUsername: "jane"},
		},
		{
			name:  "groups as a string is one group, never split or trimmed",
			token: identity.Identity{},
			profile: map[string]any{"sub": testSubject, "email": "j@example.com",
				"email_verified": "true", "groups": "not admins"},
			want: identity.Identity{Email: "j@example.com", EmailVerified: identity.VerifiedTrue, Groups: []string{"not admins"}},
		},
		{
			name:    "group names never trimmed",
			token:   identity.Identity{},
			profile: map[string]any{"sub": testSubject, "groups": []string{" admins", "", "admins "}},
			want:    identity.Identity{Groups: []string{" admins", "admins "}},
		},
		{
			name:    "email_verified false stays false",
			token:   identity.Identity{},
			profile: map[string]any{"sub": testSubject, "email": "j@example.com", "email_verified": false},
			want:    identity.Identity{Email: "j@example.com", EmailVerified: identity.VerifiedFalse},
		},
		{
			name:    "email_verified string false is false",
			token:   identity.Identity{},
			profile: map[string]any{"sub": testSubject, "email": "j@example.com", "email_verified": "false"},
			want:    identity.Identity{Email: "j@example.com", EmailVerified: identity.VerifiedFalse},
		},
		{
			name:    "email_verified absent is absent",
			token:   identity.Identity{},
			profile: map[string]any{"sub": testSubject, "email": "j@example.com"},
			want:    identity.Identity{Email: "j@example.com"},
		},
		{
			name:    "EMAIL and Groups are other claims",
			token:   identity.Identity{},
			profile: map[string]any{"sub": testSubject, "EMAIL": "root@corp.com", "Email_verified": true, "Groups": []string{"admins"}},
			want:    identity.Identity{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newIDP(t, jsonProfile(tc.profile))
			res, _ := MustNew(t, userinfo.Config{}, p, newMemCache())
			id := tc.token
			id.Issuer, id.Subject = testIssuer, testSubject
			if reason := res.Enrich(context.Background(), &id, testToken); reason != "" {
				t.Fatalf("degraded %q", reason)
			}
			tc.want.Issuer, tc.want.Subject = testIssuer, testSubject
			if !reflect.DeepEqual(id, tc.want) {
				t.Fatalf("identity =\n%+v\nwant\n%+v", id, tc.want)
			}
		})
	}
}

func TestEnrichSkips(t *testing.T) {
	p := newIDP(t, jsonProfile(janeProfile))
	res, _ := MustNew(t, userinfo.Config{}, p, newMemCache())
	cases := []struct {
		name string
		id   *identity.Identity
	}{
		{"token already complete", &identity.Identity{Issuer: testIssuer, Subject: testSubject,
			Email: "a@example.com", Name: "A", Groups: []string{"g"}}},
		{"issuer without endpoint", &identity.Identity{Issuer: "https://other.example", Subject: testSubject}},
		{"nil identity", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if reason := res.Enrich(context.Background(), tc.id, testToken); reason != "" {
				t.Fatalf("degraded %q", reason)
			}
		})
	}
	if got := p.calls.Load(); got != 0 {
		t.Fatalf("userinfo calls = %d, want 0", got)
	}
}

func TestEnrichFailures(t *testing.T) {
	cases := []struct {
		name    string
		respond http.HandlerFunc
		reason  string
		result  string
	}{
		{"sub mismatch", jsonProfile(map[string]any{"sub": "someone-else", "email": "x@example.com"}),
			userinfo.ReasonSubMismatch, "sub_mismatch"},
		{"sub missing", jsonProfile(map[string]any{"email": "x@example.com"}),
			userinfo.ReasonSubMismatch, "sub_mismatch"},
		{"status 500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, userinfo.ReasonStatus, "status"},
		{"malformed JSON", rawBody("application/json", `{"sub": "`+testSubject+`", "email": `),
			userinfo.ReasonMalformed, "malformed"},
		{"JSON but not an object", rawBody("application/json", `["`+testSubject+`"]`),
			userinfo.ReasonMalformed, "malformed"},
		{"JSON null", rawBody("application/json", `null`), userinfo.ReasonMalformed, "malformed"},
		{"wrong type for a field", rawBody("application/json", `{"sub":"`+testSubject+`","name":42}`),
			userinfo.ReasonMalformed, "malformed"},
		{"HTML", rawBody("text/html", `<html>login</html>`), userinfo.ReasonMalformed, "malformed"},
		{"signed userinfo", rawBody("application/jwt", `eyJhbGciOiJSUzI1NiJ9.e30.c2ln`),
			userinfo.ReasonUnsupported, "unsupported"},
		{"body over the limit", rawBody("application/json",
			`{"sub":"`+testSubject+`","name":"`+strings.Repeat("x", 200)+`"}`),
			userinfo.ReasonMalformed, "too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newIDP(t, tc.respond)
			cache := newMemCache()
			res, reg := MustNew(t, userinfo.Config{MaxBodyBytes: 128}, p, cache)
			for i := range 2 { // the second call is answered by the negative cache
				if i == 1 { // once the shared lookup has stored its result
					wait.For(t, "the entry stored", func() bool { cache.mu.Lock(); defer cache.mu.Unlock(); return cache.sets == 1 })
				}
				id := tokenIdentity(time.Time{})
				if got := res.Enrich(context.Background(), id, testToken); got != tc.reason {
					t.Fatalf("call %d: degraded %q, want %q", i, got, tc.reason)
				}
				if id.Degraded != tc.reason || id.Email != "" {
					t.Fatalf("call %d: identity %+v, want degraded and not enriched", i, id)
				}
			}
			if got := p.calls.Load(); got != 1 {
				t.Fatalf("userinfo calls = %d, want 1", got)
			}
			if got := promtest.Value(t, reg, "idgate_userinfo_requests_total", "result", tc.result); got != 1 {
				t.Fatalf("requests_total{result=%q} = %v, want 1", tc.result, got)
			}
			if got := promtest.Value(t, reg, "idgate_userinfo_negative_hits_total"); got != 1 {
				t.Fatalf("negative_hits_total = %v, want 1", got)
			}
		})
	}
}

// rawBody answers 200 with body as contentType.
func rawBody(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write([]byte(body))
	}
}

func TestEnrichTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-done:
		}
	})
	cache := newMemCache()
	res, reg := MustNew(t, userinfo.Config{Timeout: timeout}, p, cache)

	start := time.Now()
	reason := res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken)
	elapsed := time.Since(start)
	if reason != userinfo.ReasonTimeout {
		t.Fatalf("degraded %q, want %q", reason, userinfo.ReasonTimeout)
	}
	if elapsed < timeout || elapsed > timeout+150*time.Millisecond {
		t.Fatalf("Enrich took %v, want about %v", elapsed, timeout)
	}
	// The shared lookup times out on its own clock, just after the caller,
	// and is then remembered as a failure.
	wait.For(t, "the entry stored", func() bool { _, sets, _ := cache.snapshot(); return sets == 1 })
	if got := res.Enrich(context.Background(), tokenIdentity(time.Time{}), testToken); got != userinfo.ReasonTimeout {
		t.Fatalf("second call: degraded %q, want the remembered %q", got, userinfo.ReasonTimeout)
	}
	if got := p.calls.Load(); got != 1 {
		t.Fatalf("userinfo calls = %d, want 1", got)
	}
	if got := promtest.Value(t, reg, "idgate_userinfo_requests_total", "result", "timeout"); got != 1 {
		t.Fatalf("requests_total{result=timeout} = %v, want 1", got)
	}
	if got := promtest.Value(t, reg, "idgate_userinfo_duration_seconds"); got != 1 {
		t.Fatalf("duration_seconds count = %v, want 1", got)
	}
}

func TestEnrichCallerDeadline(t *testing.T) {
	release := make(chan struct{})
	p := newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		jsonProfile(janeProfile)(w, r)
	})
	cache := newMemCache()
	res, _ := MustNew(t, userinfo.Config{}, p, cache)

	t.Run("a caller giving up does not cancel the shared lookup", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if got := res.Enrich(ctx, tokenIdentity(time.Time{}), testToken); got != userinfo.ReasonTimeout {
			t.Fatalf("degraded %q, want %q", got, userinfo.ReasonTimeout)
		}
		close(release)
		// A second caller joins the same lookup (or reads what it stored):
		// had the first caller's deadline canceled it, there would be a
		// second userinfo call or a degraded answer.
		id := tokenIdentity(time.Time{})
		if got := res.Enrich(context.Background(), id, testToken); got != "" || id.Email == "" {
			t.Fatalf("second caller: degraded %q, email %q", got, id.Email)
		}
		if got := p.calls.Load(); got != 1 {
			t.Fatalf("userinfo calls = %d, want 1", got)
		}
	})
	t.Run("canceled caller", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res2, _ := MustNew(t, userinfo.Config{}, p, newMemCache())
		if got := res2.Enrich(ctx, tokenIdentity(time.Time{}), testToken); got != userinfo.ReasonCanceled {
			t.Fatalf("degraded %q, want %q", got, userinfo.ReasonCanceled)
		}
	})
}

func TestEnrichDropsUnsafeValues(t *testing.T) {
	p := newIDP(t, jsonProfile(map[string]any{
		"sub": testSubject, "email": "jane@example.com",
		"name":               "Jane\r\nX-Injected: 1",
		"preferred_username": "jane\x00root",
		"groups":             []string{"ok", "bad\ngroup"},
	}))
	res, reg := MustNew(t, userinfo.Config{}, p, newMemCache())
	id := tokenIdentity(time.Time{})
	if reason := res.Enrich(context.Background(), id, testToken); reason != "" {
		t.Fatalf("degraded %q", reason)
	}
	if id.Name != "" || id.PreferredUsername != "" || id.Email != "jane@example.com" ||
		!reflect.DeepEqual(id.Groups, []string{"ok"}) {
		t.Fatalf("identity %+v: unsafe values must be dropped, safe ones kept", id)
	}
	for _, field := range []string{"name", "preferred_username", "groups"} {
		if got := promtest.Value(t, reg, "idgate_userinfo_dropped_values_total", "field", field); got != 1 {
			t.Errorf("dropped_values_total{field=%q} = %v, want 1", field, got)
		}
	}
}
