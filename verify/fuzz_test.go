package verify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/signing"
	"github.com/idgate/idgate/verify"
)

// fuzzNow is the verifier's clock in the fuzz target and the benchmark:
// the seed tokens in testdata/fuzz/FuzzVerify expire in 2100.
var fuzzNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// fixedKeyVerifier verifies tokens of the test-only key in testdata.
func fixedKeyVerifier(tb testing.TB) (*signing.Key, *verify.Verifier) {
	tb.Helper()
	k, err := signing.New(signing.Config{KeyFile: "testdata/fuzz-signing-key.pem"})
	if err != nil {
		tb.Fatal(err)
	}
	srv := newJWKSServer(tb, k.JWKS())
	return k, mustVerifier(tb, srv.URL, testclock.New(fuzzNow), nil)
}

// FuzzVerify feeds Verify arbitrary header values, and the same header and
// payload re-signed with the trusted key, so the claim parser is reached
// with a valid signature. Whatever Verify accepts must carry a valid
// signature and claims that encoding/json reads the same way by exact name.
func FuzzVerify(f *testing.F) {
	k, v := fixedKeyVerifier(f)
	f.Add("")
	f.Add("a.b.c")
	f.Add(signedBy(f, k, `{"iss":"idgate","aud":"flyte","sub":"alice","exp":4102444800}`))
	f.Fuzz(func(t *testing.T, tok string) {
		check(t, k, v, tok)
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			return
		}
		h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
		p, err2 := base64.RawURLEncoding.DecodeString(parts[1])
		if err1 != nil || err2 != nil {
			return
		}
		resigned, err := k.Sign(h, p, base64.RawURLEncoding)
		if err != nil {
			t.Fatal(err)
		}
		check(t, k, v, resigned)
	})
}

func check(t *testing.T, k *signing.Key, v *verify.Verifier, tok string) {
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		if c != nil {
			t.Fatalf("claims with error %v", err)
		}
		return
	}
	payload, err := signing.Verify(k.Public(), tok, base64.RawURLEncoding)
	if err != nil {
		t.Fatalf("accepted a token whose signature does not verify: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("accepted a payload encoding/json refuses: %v", err)
	}
	exp, _ := m["exp"].(float64)
	if m["iss"] != "idgate" || m["sub"] != c.Subject || c.Subject == "" || !slices.Contains(c.Audience, "flyte") ||
		int64(exp) != c.ExpiresAt.Unix() || !fuzzNow.Before(c.ExpiresAt) {
		t.Fatalf("accepted claims %+v from %s", c, payload)
	}
	email, _ := m["email"].(string)
	var groups []string
	if gs, ok := m["groups"].([]any); ok {
		for _, g := range gs {
			s, _ := g.(string)
			groups = append(groups, s)
		}
	}
	if c.Email != email || !slices.Equal(c.Groups, groups) && len(c.Groups)+len(groups) > 0 {
		t.Fatalf("claims %+v differ from encoding/json's reading of %s", c, payload)
	}
}

// BenchmarkVerify is one Verify of a typical x-flyte-identity with the key
// cached: the cost an upstream pays per request.
func BenchmarkVerify(b *testing.B) {
	k, v := fixedKeyVerifier(b)
	tok := signedBy(b, k, `{"iss":"idgate","aud":"flyte","sub":"alice","email":"alice@example.com","email_verified":true,"name":"Alice Liddell","given_name":"Alice","family_name":"Liddell","preferred_username":"alice","groups":["admins","ml"],"idp":"https://idp.example.com","iat":1764547200,"exp":4102444800}`)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFuzzSeeds: the seed corpus holds what it is named for, so the fuzzer
// starts from both accepted and refused tokens.
func TestFuzzSeeds(t *testing.T) {
	_, v := fixedKeyVerifier(t)
	tests := []struct {
		seed   string
		accept bool
	}{
		{"valid", true}, {"aud_array", true}, {"escaped_names", true}, {"nested", true},
		{"case_variants", true}, // "Sub" and "EXP" are other claims; sub and exp decide
		{"duplicate_sub", false}, {"expired", false},
		{"alg_none", false}, {"hs256", false}, {"jwk_embedded", false},
	}
	for _, tc := range tests {
		t.Run(tc.seed, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/fuzz/FuzzVerify", tc.seed))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			tok, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[len(lines)-1], "string("), ")"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), tok)
			if (err == nil) != tc.accept {
				t.Fatalf("Verify error = %v, accept %v", err, tc.accept)
			}
			if err == nil && c.Subject != "alice" {
				t.Fatalf("subject %q", c.Subject)
			}
		})
	}
}
