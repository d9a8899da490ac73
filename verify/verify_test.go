package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/signing"
	"github.com/idgate/idgate/verify"
)

var enc = base64.RawURLEncoding

func segments(t testing.TB, tok string) (header, payload []byte, sig string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	h, err1 := enc.DecodeString(p[0])
	b, err2 := enc.DecodeString(p[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("segments: %v %v", err1, err2)
	}
	return h, b, p[2]
}

// es256 signs header.payload with priv as a compact JWS.
func es256(t testing.TB, priv *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	d := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + enc.EncodeToString(sig[:])
}

func hs256(secret []byte, header, payload string) string {
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

// signedBy signs payload with idgate's own key and kid.
func signedBy(t testing.TB, k *signing.Key, payload string) string {
	t.Helper()
	tok, err := k.Sign([]byte(`{"alg":"ES256","kid":"`+k.KeyID()+`","typ":"JWT"}`), []byte(payload), base64.RawURLEncoding)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestVerifyRealIdgate verifies the x-flyte-identity a real idgate signed
// in a Check over gRPC, and refuses each way of forging or misusing one.
func TestVerifyRealIdgate(t *testing.T) {
	base := time.Now().Truncate(time.Second)
	clk := testclock.New(base)
	a := mustIdgate(t, clk, true)
	b := mustIdgate(t, clk, false) // another idgate, another key
	tok := a.flyteIdentity(t, alice)
	other := b.flyteIdentity(t, alice)
	hdr, payload, sig := segments(t, tok)
	kid := a.key.KeyID()
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerJWK := `{"kty":"EC","crv":"P-256","x":"` + enc.EncodeToString(attacker.X.Bytes()) + `","y":"` + enc.EncodeToString(attacker.Y.Bytes()) + `"}`
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(payload), `"sub":"alice"`, `"sub":"root"`, 1)
	exp := int64(claims["exp"].(float64))
	iat := int64(claims["iat"].(float64))
	now := base.Unix()
	claimsWith := func(extra string) string {
		return `{"iss":"idgate","aud":"flyte","sub":"alice","iat":` + itoa(iat) + `,"exp":` + itoa(exp) + extra + `}`
	}

	tests := []struct {
		name    string
		tok     string
		at      time.Duration // the verifier's clock, after base
		edit    func(*verify.Config)
		wantErr error
	}{
		{name: "valid", tok: tok},
		{name: "valid just before exp", tok: tok, at: 5*time.Minute - time.Second},
		{name: "expired", tok: tok, at: 5 * time.Minute, wantErr: verify.ErrClaims},
		{name: "expired within leeway", tok: tok, at: 5*time.Minute + 5*time.Second, edit: func(c *verify.Config) { c.Leeway = 10 * time.Second }},
		{name: "issued in the future", tok: tok, at: -time.Minute, wantErr: verify.ErrClaims},
		{name: "wrong audience", tok: tok, edit: func(c *verify.Config) { c.Audience = "kubeflow" }, wantErr: verify.ErrClaims},
		{name: "wrong issuer", tok: tok, edit: func(c *verify.Config) { c.Issuer = "other" }, wantErr: verify.ErrClaims},
		{name: "another idgate's key", tok: other, wantErr: verify.ErrUnknownKey},
		{name: "another key under idgate's kid", tok: es256(t, attacker, string(hdr), string(payload)), wantErr: verify.ErrSignature},
		{name: "forged payload under the real signature", tok: enc.EncodeToString(hdr) + "." + enc.EncodeToString([]byte(forged)) + "." + sig, wantErr: verify.ErrSignature},
		{name: "signature of another token", tok: strings.Join(strings.Split(tok, ".")[:2], ".") + "." + strings.Split(other, ".")[2], wantErr: verify.ErrSignature},
		{name: "alg none", tok: enc.EncodeToString([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + enc.EncodeToString(payload) + ".", wantErr: verify.ErrAlgorithm},
		{name: "alg none with the real signature", tok: enc.EncodeToString([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + enc.EncodeToString(payload) + "." + sig, wantErr: verify.ErrAlgorithm},
		{name: "HS256 keyed with the public key PEM", tok: hs256(a.key.PublicKeyPEM(), `{"alg":"HS256","kid":"`+kid+`"}`, string(payload)), wantErr: verify.ErrAlgorithm},
		{name: "HS256 keyed with the JWKS", tok: hs256(a.key.JWKS(), `{"alg":"HS256","kid":"`+kid+`"}`, string(payload)), wantErr: verify.ErrAlgorithm},
		{name: "ES384 claimed", tok: es256(t, attacker, `{"alg":"ES384","kid":"`+kid+`"}`, string(payload)), wantErr: verify.ErrAlgorithm},
		{name: "alg in lower case", tok: signedByHeader(t, a.key, `{"alg":"es256","kid":"`+kid+`"}`, string(payload)), wantErr: verify.ErrAlgorithm},
		{name: "embedded jwk", tok: es256(t, attacker, `{"alg":"ES256","kid":"`+kid+`","jwk":`+attackerJWK+`}`, forged), wantErr: verify.ErrAlgorithm},
		{name: "jku", tok: es256(t, attacker, `{"alg":"ES256","kid":"`+kid+`","jku":"http://evil/jwks"}`, forged), wantErr: verify.ErrAlgorithm},
		{name: "x5u", tok: es256(t, attacker, `{"alg":"ES256","kid":"`+kid+`","x5u":"http://evil/cert"}`, forged), wantErr: verify.ErrAlgorithm},
		{name: "x5c", tok: es256(t, attacker, `{"alg":"ES256","kid":"`+kid+`","x5c":["MIIB"]}`, forged), wantErr: verify.ErrAlgorithm},
		{name: "crit b64", tok: signedByHeader(t, a.key, `{"alg":"ES256","kid":"`+kid+`","b64":false,"crit":["b64"]}`, string(payload)), wantErr: verify.ErrAlgorithm},
		{name: "alg named twice", tok: signedByHeader(t, a.key, `{"alg":"none","alg":"ES256","kid":"`+kid+`"}`, string(payload)), wantErr: verify.ErrMalformed},
		{name: "no kid", tok: signedByHeader(t, a.key, `{"alg":"ES256"}`, string(payload)), wantErr: verify.ErrMalformed},
		{name: "padded base64", tok: padded(tok), wantErr: verify.ErrMalformed},
		{name: "two tokens", tok: tok + "," + tok, wantErr: verify.ErrMalformed},
		{name: "CRLF", tok: tok + "\r\nx-injected: 1", wantErr: verify.ErrMalformed},
		{name: "empty", tok: "", wantErr: verify.ErrMissing},
		// Signed with idgate's own key: what a bug in idgate or a careless
		// reader could let through.
		{name: "own key: claims in other letter case", tok: signedBy(t, a.key, `{"ISS":"idgate","Aud":"flyte","Sub":"root","Exp":`+itoa(exp)+`}`), wantErr: verify.ErrClaims},
		{name: "own key: sub named twice", tok: signedBy(t, a.key, claimsWith(`,"sub":"root"`)), wantErr: verify.ErrMalformed},
		{name: "own key: sub escaped twice", tok: signedBy(t, a.key, claimsWith(`,"s\u0075b":"root"`)), wantErr: verify.ErrMalformed},
		{name: "own key: no exp", tok: signedBy(t, a.key, `{"iss":"idgate","aud":"flyte","sub":"alice"}`), wantErr: verify.ErrClaims},
		{name: "own key: exp a string", tok: signedBy(t, a.key, `{"iss":"idgate","aud":"flyte","sub":"alice","exp":"`+itoa(exp)+`"}`), wantErr: verify.ErrMalformed},
		{name: "own key: nbf in the future", tok: signedBy(t, a.key, claimsWith(`,"nbf":`+itoa(now+60))), wantErr: verify.ErrClaims},
		{name: "own key: aud array", tok: signedBy(t, a.key, `{"iss":"idgate","aud":["kubeflow","flyte"],"sub":"alice","exp":`+itoa(exp)+`}`)},
		{name: "own key: email_verified a string", tok: signedBy(t, a.key, claimsWith(`,"email_verified":"true"`)), wantErr: verify.ErrMalformed},
		{name: "own key: groups not strings", tok: signedBy(t, a.key, claimsWith(`,"groups":[1]`)), wantErr: verify.ErrMalformed},
		{name: "own key: no sub", tok: signedBy(t, a.key, `{"iss":"idgate","aud":"flyte","exp":`+itoa(exp)+`}`), wantErr: verify.ErrClaims},
		{name: "own key: trailing data", tok: signedBy(t, a.key, claimsWith("")+`{}`), wantErr: verify.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at := base.Add(tc.at)
			v := mustVerifier(t, a.jwksURL(), testclock.New(at), tc.edit)
			c, err := v.Verify(context.Background(), tc.tok)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if tc.tok != "" && strings.Contains(err.Error(), tc.tok) {
					t.Fatalf("error carries the token: %v", err)
				}
				if c != nil {
					t.Fatalf("claims with an error: %+v", c)
				}
				return
			}
			if c.Subject != "alice" || c.Issuer != "idgate" || !slices.Contains(c.Audience, "flyte") {
				t.Fatalf("claims: %+v", c)
			}
		})
	}
}

// TestClaimsOfRealIdgate checks every claim idgate writes lands in its
// field.
func TestClaimsOfRealIdgate(t *testing.T) {
	base := time.Now().Truncate(time.Second)
	clk := testclock.New(base)
	a := mustIdgate(t, clk, false)
	v := mustVerifier(t, a.jwksURL(), clk, nil)
	tests := []struct {
		name         string
		claims       map[string]any
		wantVerified *bool
		wantEmail    string
	}{
		{"verified email", alice, ptr(true), "alice@example.com"},
		{"email_verified absent", without(alice, "email_verified"), nil, "alice@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), a.flyteIdentity(t, tc.claims))
			if err != nil {
				t.Fatal(err)
			}
			want := verify.Claims{
				Issuer: "idgate", Audience: []string{"flyte"}, Subject: "alice", Email: tc.wantEmail,
				EmailVerified: tc.wantVerified, Name: "Alice Liddell", GivenName: "Alice", FamilyName: "Liddell",
				PreferredUsername: "alice", Groups: []string{"admins", "ml"}, IdP: a.idp.Issuer(),
				IssuedAt: base, ExpiresAt: base.Add(5 * time.Minute),
			}
			gotV, wantV := c.EmailVerified, want.EmailVerified
			c.EmailVerified, want.EmailVerified = nil, nil
			if (gotV == nil) != (wantV == nil) || (gotV != nil && *gotV != *wantV) {
				t.Fatalf("EmailVerified = %v, want %v", fmtPtr(gotV), fmtPtr(wantV))
			}
			gotJ, _ := json.Marshal(c)
			wantJ, _ := json.Marshal(want)
			if string(gotJ) != string(wantJ) {
				t.Fatalf("claims\n got %s\nwant %s", gotJ, wantJ)
			}
		})
	}
}

func signedByHeader(t testing.TB, k *signing.Key, header, payload string) string {
	t.Helper()
	tok, err := k.Sign([]byte(header), []byte(payload), base64.RawURLEncoding)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func padded(tok string) string {
	p := strings.Split(tok, ".")
	for i := range p {
		for len(p[i])%4 != 0 {
			p[i] += "="
		}
	}
	return strings.Join(p, ".")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func ptr[T any](v T) *T { return &v }

func fmtPtr(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
