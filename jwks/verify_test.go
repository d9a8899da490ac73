package jwks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

var b64 = base64.RawURLEncoding

// segment returns a token built from JSON-encoded header and claims with a
// copied (hence wrong) signature.
func segment(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b64.EncodeToString(b)
}

// tamper flips one character in the middle of segment i.
func tamper(tok string, i int) string {
	parts := strings.Split(tok, ".")
	s := []byte(parts[i])
	m := len(s) / 2
	if s[m] == 'A' {
		s[m] = 'B'
	} else {
		s[m] = 'A'
	}
	parts[i] = string(s)
	return strings.Join(parts, ".")
}

// withPayload swaps tok's payload for claims, keeping header and signature.
func withPayload(tb testing.TB, tok string, claims map[string]any) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	parts[1] = segment(tb, claims)
	return strings.Join(parts, ".")
}

// attackerJWK returns the public JWK of the attacker's current key for alg.
func attackerJWK(tb testing.TB, attacker *devidp.Provider, alg string) map[string]any {
	tb.Helper()
	resp, err := http.Get(attacker.Issuer() + "/jwks")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(body, &set); err != nil {
		tb.Fatal(err)
	}
	for _, k := range set.Keys {
		if k["kid"] == attacker.CurrentKeyID(alg) {
			return k
		}
	}
	tb.Fatalf("no %s key", alg)
	return nil
}

// refusal is a token Verify must refuse with wantErr.
type refusal struct {
	name    string
	token   string
	wantErr error
}

// refusalCases builds one token per refusal against p; attacker is another
// IdP whose keys p's verifier must never use.
func refusalCases(t *testing.T, p, attacker *devidp.Provider, now time.Time) []refusal {
	valid := MustMint(t, p, nil, devidp.MintOptions{})
	attackerTok := func(h map[string]any, kid string) string {
		return MustMint(t, attacker, map[string]any{"iss": p.Issuer()}, devidp.MintOptions{KeyID: kid, ExtraHeader: h})
	}
	hs256, err := p.MintHS256WithPublicKey(map[string]any{"sub": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	rsHeader := segment(t, map[string]any{"alg": "RS256", "kid": p.CurrentKeyID("RS256")})
	sig := strings.Split(valid, ".")[2]
	return []refusal{
		{"empty", "", jwks.ErrMalformed},
		{"one segment", "abc", jwks.ErrMalformed},
		{"two segments", "abc.def", jwks.ErrMalformed},
		{"four segments", valid + ".x", jwks.ErrMalformed},
		{"bad base64 header", "!!!." + strings.SplitN(valid, ".", 2)[1], jwks.ErrMalformed},
		{"header not json", b64.EncodeToString([]byte("nope")) + "." + strings.SplitN(valid, ".", 2)[1], jwks.ErrMalformed},
		{"no signature", strings.Join(strings.Split(valid, ".")[:2], ".") + ".", jwks.ErrMalformed},
		{"newline in signature", valid[:len(valid)-4] + "\n" + valid[len(valid)-4:], jwks.ErrMalformed},
		{"space in header", " " + valid, jwks.ErrMalformed},
		{"bad base64 signature", valid[:len(valid)-2] + "*=", jwks.ErrMalformed},
		{"payload not json", rsHeader + "." + b64.EncodeToString([]byte("{")) + "." + sig, jwks.ErrMalformed},
		{"missing sub", rsHeader + "." + segment(t, map[string]any{"iss": p.Issuer(), "aud": "idgate-dev", "exp": now.Unix() + 60}) + "." + sig, jwks.ErrMalformed},
		{"empty sub", rsHeader + "." + segment(t, map[string]any{"iss": p.Issuer(), "sub": "", "aud": "idgate-dev", "exp": now.Unix() + 60}) + "." + sig, jwks.ErrMalformed},
		{"missing exp", rsHeader + "." + segment(t, map[string]any{"iss": p.Issuer(), "sub": "a", "aud": "idgate-dev"}) + "." + sig, jwks.ErrMalformed},
		{"string exp", rsHeader + "." + segment(t, map[string]any{"iss": p.Issuer(), "sub": "a", "aud": "idgate-dev", "exp": "2099"}) + "." + sig, jwks.ErrMalformed},
		{"oversized", valid + strings.Repeat("A", 16384), jwks.ErrTooLarge},
		{"expired", MustMint(t, p, map[string]any{"exp": now.Add(-time.Minute).Unix()}, devidp.MintOptions{}), jwks.ErrExpired},
		{"nbf in future", MustMint(t, p, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}, devidp.MintOptions{}), jwks.ErrNotYetValid},
		{"iat far in future", MustMint(t, p, map[string]any{"iat": now.Add(time.Hour).Unix()}, devidp.MintOptions{}), jwks.ErrIssuedInFuture},
		{"wrong issuer", MustMint(t, attacker, nil, devidp.MintOptions{}), jwks.ErrUnknownIssuer},
		{"wrong audience", MustMint(t, p, map[string]any{"aud": []string{"other", "another"}}, devidp.MintOptions{}), jwks.ErrAudience},
		{"alg none", p.MintNone(map[string]any{"sub": "alice"}), jwks.ErrAlgorithm},
		{"HS256 keyed with the RSA public key", hs256, jwks.ErrAlgorithm},
		{"RS256 signature claiming ES256", MustMint(t, p, nil, devidp.MintOptions{ExtraHeader: map[string]any{"alg": "ES256"}}), jwks.ErrAlgorithm},
		{"ES256 token naming an RSA key", MustMint(t, p, nil, devidp.MintOptions{Alg: "ES256", KeyID: p.CurrentKeyID("RS256")}), jwks.ErrAlgorithm},
		{"RS256 token naming the PS256 JWK", MustMint(t, p, nil, devidp.MintOptions{KeyID: p.CurrentKeyID("PS256")}), jwks.ErrAlgorithm},
		{"EdDSA token naming the ES256 key", MustMint(t, p, nil, devidp.MintOptions{Alg: "EdDSA", KeyID: p.CurrentKeyID("ES256")}), jwks.ErrAlgorithm},
		{"tampered signature", tamper(valid, 2), jwks.ErrSignature},
		{"tampered payload", withPayload(t, valid, map[string]any{"iss": p.Issuer(), "sub": "admin", "aud": "idgate-dev", "exp": now.Unix() + 60}), jwks.ErrSignature},
		{"signed by another key with our kid", attackerTok(nil, p.CurrentKeyID("RS256")), jwks.ErrSignature},
		{"unknown kid", MustMint(t, p, nil, devidp.MintOptions{KeyID: "no-such-kid"}), jwks.ErrUnknownKey},
		{"jku header ignored", attackerTok(map[string]any{"jku": attacker.Issuer() + "/jwks"}, attacker.CurrentKeyID("RS256")), jwks.ErrUnknownKey},
		{"x5u header ignored", attackerTok(map[string]any{"x5u": attacker.Issuer() + "/x5u"}, attacker.CurrentKeyID("RS256")), jwks.ErrUnknownKey},
		{"embedded jwk ignored", attackerTok(map[string]any{"jwk": attackerJWK(t, attacker, "RS256")}, attacker.CurrentKeyID("RS256")), jwks.ErrUnknownKey},
		{"embedded jwk with our kid ignored", attackerTok(map[string]any{"jwk": attackerJWK(t, attacker, "RS256")}, p.CurrentKeyID("RS256")), jwks.ErrSignature},
		{"crit header", MustMint(t, p, nil, devidp.MintOptions{ExtraHeader: map[string]any{"crit": []string{"exp"}, "exp": 1}}), jwks.ErrMalformed},
		{"crit null", MustMint(t, p, nil, devidp.MintOptions{ExtraHeader: map[string]any{"crit": nil}}), jwks.ErrMalformed},
	}
}

func TestVerifyRefusals(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	attacker := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	MustVerify(t, v, MustMint(t, p, nil, devidp.MintOptions{})) // loads the keys
	tests := refusalCases(t, p, attacker, clk.Now())
	attackerCalls := attacker.JWKSCalls() // attackerJWK's own fetches
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(id, identity.Identity{}) {
				t.Fatalf("refusal returned identity %+v", id)
			}
			if r := jwks.Reason(err); r == "internal" || r == "" {
				t.Fatalf("Reason = %q", r)
			}
		})
	}
	if n := attacker.JWKSCalls() - attackerCalls; n != 0 {
		t.Fatalf("attacker's JWKS fetched %d times", n)
	}
	t.Run("cheap refusals never fetch", func(t *testing.T) {
		fresh := MustVerifier(t, p, clk, nil)
		before := p.JWKSCalls()
		for _, tc := range tests {
			cheap := tc.wantErr != jwks.ErrAlgorithm && tc.wantErr != jwks.ErrSignature && tc.wantErr != jwks.ErrUnknownKey
			if cheap || tc.name == "alg none" || strings.HasPrefix(tc.name, "HS256") {
				if _, err := fresh.Verify(context.Background(), tc.token); !errors.Is(err, tc.wantErr) {
					t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.wantErr)
				}
			}
		}
		if n := p.JWKSCalls() - before; n != 0 {
			t.Fatalf("cheap refusals fetched the JWKS %d times", n)
		}
	})
}

func TestVerifyEveryAlg(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	for _, alg := range devidp.Algs {
		t.Run(alg, func(t *testing.T) {
			tok := MustMint(t, p, nil, devidp.MintOptions{Alg: alg})
			id, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.KeyID != p.CurrentKeyID(alg) || id.Subject != "alice" {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
	if n := p.JWKSCalls(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

func TestVerifyAccepts(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	now := clk.Now()
	tests := []struct {
		name  string
		token string
	}{
		{"no kid", MustMint(t, p, nil, devidp.MintOptions{Alg: "ES384", NoKeyID: true})},
		{"aud array", MustMint(t, p, map[string]any{"aud": []string{"x", "idgate-dev"}}, devidp.MintOptions{})},
		{"expired within skew", MustMint(t, p, map[string]any{"exp": now.Add(-10 * time.Second).Unix()}, devidp.MintOptions{})},
		{"nbf within skew", MustMint(t, p, map[string]any{"nbf": now.Add(10 * time.Second).Unix()}, devidp.MintOptions{})},
		{"fractional times", MustMint(t, p, map[string]any{"iat": float64(now.Unix()) + 0.5, "exp": float64(now.Unix()) + 60.25}, devidp.MintOptions{})},
		{"odd email_verified and null profile claims", MustMint(t, p, map[string]any{"email_verified": 1, "name": nil, "groups": nil}, devidp.MintOptions{})},
		{"typ and unknown header fields", MustMint(t, p, nil, devidp.MintOptions{ExtraHeader: map[string]any{"typ": "at+jwt", "foo": 1}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			MustVerify(t, v, tc.token)
		})
	}
}

func TestIdentityMapping(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	now := clk.Now()
	claims := map[string]any{
		"sub": "u-1", "email": "a@example.com", "email_verified": "true", "name": "Alice A",
		"given_name": "Alice", "family_name": "A", "preferred_username": "alice",
		"groups": []string{"b", "a", " b "}, "roles": "r2, r1", "oid": "oid-1", "aud": []string{"idgate-dev"},
		"iat": now.Unix() - 5, "exp": now.Unix() + 600,
	}
	tests := []struct {
		name   string
		issuer func(*jwks.IssuerConfig)
		extra  map[string]any
		want   func(*identity.Identity)
	}{
		{"defaults", nil, nil, func(id *identity.Identity) {}},
		{"custom user and groups claims", func(ic *jwks.IssuerConfig) { ic.UserClaim, ic.GroupsClaim = "oid", "roles" }, nil,
			func(id *identity.Identity) {
				id.UserClaim, id.Groups, id.Extra = "oid", []string{"r2, r1"}, map[string]string{"oid": "oid-1"} // a string is one group
			}},
		{"standard user claim stays out of Extra", func(ic *jwks.IssuerConfig) { ic.UserClaim = "preferred_username" }, nil,
			func(id *identity.Identity) { id.UserClaim = "preferred_username" }},
		{"overage via _claim_names", nil, map[string]any{"_claim_names": map[string]any{"groups": "src1"}},
			func(id *identity.Identity) { id.GroupsOverage = true }},
		{"overage via hasgroups", nil, map[string]any{"hasgroups": true},
			func(id *identity.Identity) { id.GroupsOverage = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := MustVerifier(t, p, clk, func(cfg *jwks.Config) {
				if tc.issuer != nil {
					tc.issuer(&cfg.Issuers[0])
				}
			})
			c := map[string]any{}
			for k, x := range claims {
				c[k] = x
			}
			for k, x := range tc.extra {
				c[k] = x
			}
			tok, err := p.Mint(c, devidp.MintOptions{Alg: "ES256"})
			if err != nil {
				t.Fatal(err)
			}
			want := identity.Identity{
				Issuer: p.Issuer(), Subject: "u-1", Audience: []string{"idgate-dev"}, Email: "a@example.com",
				EmailVerified: identity.VerifiedTrue, Name: "Alice A", GivenName: "Alice", FamilyName: "A",
				PreferredUsername: "alice", Groups: []string{" b ", "a", "b"}, UserClaim: "email", // never trimmed
				IssuedAt: now.Add(-5 * time.Second), ExpiresAt: now.Add(10 * time.Minute),
				KeyID: p.CurrentKeyID("ES256"), Source: identity.SourceBearer,
			}
			tc.want(&want)
			for round := 0; round < 2; round++ { // verified, then cached
				got, err := v.Verify(context.Background(), tok)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d:\n got %+v\nwant %+v", round, got, want)
				}
			}
		})
	}
}
