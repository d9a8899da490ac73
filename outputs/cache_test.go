package outputs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/heaptest"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/signing"
)

// flytePayload is x-flyte-identity's payload as json.Marshal would write
// it, the oracle appendJSON is held to.
type flytePayload struct {
	Issuer            string            `json:"iss"`
	Audience          string            `json:"aud,omitempty"`
	Subject           string            `json:"sub"`
	Email             string            `json:"email,omitempty"`
	EmailVerified     identity.Verified `json:"email_verified,omitempty"`
	GivenName         string            `json:"given_name,omitempty"`
	FamilyName        string            `json:"family_name,omitempty"`
	Name              string            `json:"name,omitempty"`
	PreferredUsername string            `json:"preferred_username,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	IdP               string            `json:"idp"`
	IssuedAt          int64             `json:"iat"`
	Expiry            int64             `json:"exp"`
}

// albClaims are the userinfo claims ALB forwards, plus exp and iss: the
// payload of x-amzn-oidc-data as json.Marshal would write it, the oracle
// appendALBJSON is held to.
type albClaims struct {
	Subject           string            `json:"sub"`
	Email             string            `json:"email,omitempty"`
	EmailVerified     identity.Verified `json:"email_verified,omitempty"`
	Name              string            `json:"name,omitempty"`
	GivenName         string            `json:"given_name,omitempty"`
	FamilyName        string            `json:"family_name,omitempty"`
	PreferredUsername string            `json:"preferred_username,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	Expiry            int64             `json:"exp"`
	Issuer            string            `json:"iss"`
}

// TestSignedCacheSizeFlatInIdentity: the cache keeps a signature, not the
// token, so identities with hundreds of groups (tokens of ~8 KB) cost what
// small ones do, and the byte bound is the entry bound times one size.
func TestSignedCacheSizeFlatInIdentity(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) { c.CacheSize = 10; c.ALB.Enabled = false })
	groups := make([]string, 200)
	for i := range groups {
		groups[i] = fmt.Sprintf("a-rather-long-group-name-%04d", i)
	}
	for i := 0; i < 12; i++ {
		id := &identity.Identity{Issuer: "https://idp", Subject: fmt.Sprint("u", i), Email: "u@corp.com", Groups: groups}
		hs := headerMap(mustRender(t, s.r, id))
		if n := len(hs["x-flyte-identity"]); n < 8000 {
			t.Fatalf("token of %d bytes, want a large one", n)
		}
	}
	if n, b := s.r.flyte.cache.c.Len(), s.r.flyte.cache.c.Bytes(); n != 10 || b != int64(10*signatureBytes) {
		t.Fatalf("cache holds %d signatures, %d bytes; want 10 (the entry bound), %d bytes", n, b, 10*signatureBytes)
	}
}

// TestSignedCacheHeapPerIdentity: what the reuse cache adds to the live
// heap per identity. Keeping the ~0.4 KB token, a pointer to it and a
// SHA-256 key cost 621 B here; a signature in a pointer-free table, 224 B.
func TestSignedCacheHeapPerIdentity(t *testing.T) {
	const n, maxHeapPerIdentity = 4000, 280
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) { c.CacheSize = n; c.ALB.Enabled = false })
	ids := make([]identity.Identity, n)
	for i := range ids {
		ids[i] = identity.Identity{Issuer: "http://127.0.0.1:19555", Subject: fmt.Sprintf("load-user-%d", i),
			Email: fmt.Sprintf("load-user-%d@example.com", i), EmailVerified: identity.VerifiedTrue,
			ExpiresAt: clk.Now().Add(time.Hour)}
	}
	mustRender(t, s.r, &ids[0])
	per := heaptest.PerEntry(n-1, func() {
		for i := range ids[1:] {
			if _, err := s.r.Render(nil, &ids[i+1], ""); err != nil {
				t.Fatal(err)
			}
		}
	})
	if got := s.r.flyte.cache.c.Len(); got != n {
		t.Fatalf("cache holds %d signatures, want %d", got, n)
	}
	t.Logf("live heap per cached signature: %d B", per)
	if per > maxHeapPerIdentity {
		t.Fatalf("live heap per cached signature %d B, want ≤ %d", per, maxHeapPerIdentity)
	}
	runtime.KeepAlive(ids)
}

// TestReusedTokenIsTheSameToken: a cache hit rebuilds the token signed on
// the miss byte for byte, for both signed headers and both encodings, and
// it verifies.
func TestReusedTokenIsTheSameToken(t *testing.T) {
	for _, padded := range []bool{false, true} {
		t.Run(fmt.Sprint("padded=", padded), func(t *testing.T) {
			clk := testclock.New(time.Unix(1_800_000_000, 0))
			s := mustSignedRenderer(t, clk, func(c *Config) { c.ALB.Padding = padded })
			id := &identity.Identity{Issuer: "https://idp", Subject: "ü<&>\u2028", Email: "a@corp.com",
				EmailVerified: identity.VerifiedTrue, Name: "A \"B\"", Groups: []string{"g1", "g\\2"},
				ExpiresAt: clk.Now().Add(time.Hour)}
			first := headerMap(mustRender(t, s.r, id))
			clk.Advance(time.Minute)
			again := headerMap(mustRender(t, s.r, id))
			enc := base64.RawURLEncoding
			if padded {
				enc = base64.URLEncoding
			}
			for name, e := range map[string]*base64.Encoding{"x-flyte-identity": base64.RawURLEncoding, ALBData: enc} {
				if first[name] != again[name] {
					t.Fatalf("%s: reused token differs:\n%s\n%s", name, first[name], again[name])
				}
				if _, err := signing.Verify(s.key.Public(), again[name], e); err != nil {
					t.Fatalf("%s: reused token does not verify: %v", name, err)
				}
			}
		})
	}
}

// TestCachedSignatureNeverCarriesClaims: the cache keeps no claims, so
// even a key collision (forced here by copying one identity's entry under
// another's key) puts the request's own claims in the token, with a
// signature that does not verify; never the other identity's claims.
func TestCachedSignatureNeverCarriesClaims(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) { c.ALB.Enabled = false })
	alice := &identity.Identity{Issuer: "https://idp", Subject: "alice", Email: "alice@corp.com", ExpiresAt: clk.Now().Add(time.Hour)}
	mallory := &identity.Identity{Issuer: "https://idp", Subject: "mallory", Email: "mallory@corp.com", ExpiresAt: clk.Now().Add(time.Hour)}
	mustRender(t, s.r, alice)
	ca, cm := s.r.claims(alice), s.r.claims(mallory)
	sc := s.r.flyte.cache
	e, ok := sc.c.Get(ca.fingerprint(sc.seed))
	if !ok {
		t.Fatal("alice's signature not cached")
	}
	sc.c.Put(cm.fingerprint(sc.seed), e, signatureBytes) // a collision
	tok := headerMap(mustRender(t, s.r, mallory))["x-flyte-identity"]
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var got flytePayload
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "mallory" || got.Email != "mallory@corp.com" {
		t.Fatalf("token for mallory says %+v", got)
	}
	if _, err := signing.Verify(s.key.Public(), tok, base64.RawURLEncoding); err == nil {
		t.Fatal("a signature made for alice verifies over mallory's claims")
	}
}

// TestFingerprintFieldBoundaries: moving bytes from one claim to the next,
// or between groups, changes the fingerprint (fields are length-prefixed).
func TestFingerprintFieldBoundaries(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, tc := range []struct {
		name string
		a, b flyteClaims
	}{
		{"subject and email", flyteClaims{Subject: "ab", Email: "c"}, flyteClaims{Subject: "a", Email: "bc"}},
		{"groups split", flyteClaims{Groups: []string{"a", "b"}}, flyteClaims{Groups: []string{"ab"}}},
		{"group or name", flyteClaims{Groups: []string{"x"}}, flyteClaims{IdP: "\x01x"}},
		{"email_verified", flyteClaims{Email: "e", EmailVerified: identity.VerifiedTrue}, flyteClaims{Email: "e", EmailVerified: identity.VerifiedFalse}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.a.fingerprint(seed) == tc.b.fingerprint(seed) {
				t.Fatal("same fingerprint")
			}
		})
	}
}

// FuzzClaimsJSON: the appenders write what json.Marshal writes for the same
// claims, whatever the strings hold (escapes, HTML characters, invalid
// UTF-8, U+2028), so the signed payloads are plain JSON every parser reads
// the same way.
func FuzzClaimsJSON(f *testing.F) {
	f.Add("alice", "alice@example.com", "Alice \"A\" <&>", "g1", "\x00\x1f\x7f\u2028\u2029", uint8(1), int64(1_800_000_000))
	f.Add("", "", "", "", "\xff\xfe ü", uint8(0), int64(-1))
	f.Fuzz(func(t *testing.T, sub, email, name, group, odd string, ev uint8, exp int64) {
		c := flyteClaims{Issuer: "idgate", Audience: odd, Subject: sub, Email: email,
			EmailVerified: identity.Verified(ev % 3), GivenName: odd, Name: name, PreferredUsername: group,
			IdP: "https://" + odd}
		if group != "" {
			c.Groups = []string{group, odd}
		}
		want, err := json.Marshal(flytePayload{Issuer: c.Issuer, Audience: c.Audience, Subject: c.Subject,
			Email: c.Email, EmailVerified: c.EmailVerified, GivenName: c.GivenName, FamilyName: c.FamilyName,
			Name: c.Name, PreferredUsername: c.PreferredUsername, Groups: c.Groups, IdP: c.IdP,
			IssuedAt: exp - 300, Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.appendJSON(nil, exp-300, exp); string(got) != string(want) {
			t.Fatalf("flyte claims:\n got %s\nwant %s", got, want)
		}
		a := albClaims{Subject: c.Subject, Email: c.Email, EmailVerified: c.EmailVerified, Name: c.Name,
			GivenName: c.GivenName, FamilyName: c.FamilyName, PreferredUsername: c.PreferredUsername,
			Groups: c.Groups, Expiry: exp, Issuer: c.IdP}
		want, err = json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendALBJSON(nil, &c, exp); string(got) != string(want) {
			t.Fatalf("alb claims:\n got %s\nwant %s", got, want)
		}
	})
}

// TestSignedHeaderMembers: the protected headers idgate writes itself hold
// exactly alg, kid and typ (x-flyte-identity), plus ALB's client, exp, iss
// and signer (x-amzn-oidc-data), and the unpadded form verifies with jwx
// against the published JWKS, a second implementation.
func TestSignedHeaderMembers(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	s := mustSignedRenderer(t, clk, func(c *Config) { c.ALB.Signer = "arn:aws:x" })
	exp := clk.Now().Add(time.Hour)
	id := &identity.Identity{Issuer: "https://idp", Subject: "alice", ExpiresAt: exp}
	hs := headerMap(mustRender(t, s.r, id))
	wantExp := float64(clk.Now().Add(5 * time.Minute).Unix())
	for name, want := range map[string]map[string]any{
		"x-flyte-identity": {"alg": "ES256", "kid": s.key.KeyID(), "typ": "JWT"},
		ALBData: {"alg": "ES256", "kid": s.key.KeyID(), "typ": "JWT", "client": "web", "iss": "https://idp",
			"signer": "arn:aws:x", "exp": wantExp},
	} {
		tok := hs[name]
		hb, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(hb, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s header = %s, want %v", name, hb, want)
		}
		set, err := jwk.Parse(s.key.JWKS())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jws.Verify([]byte(tok), jws.WithKeySet(set, jws.WithRequireKid(true))); err != nil {
			t.Errorf("%s: jwx verify: %v", name, err)
		}
	}
}
