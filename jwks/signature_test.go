package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// testKeys is a key set with one key of each kind, as an IdP serves it.
type testKeys struct {
	rsa     *rsa.PrivateKey
	rsaPSS  *rsa.PrivateKey // published with "alg": "PS256"
	p256    *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	set     *keySet
	payload []byte
}

func mustTestKeys(t *testing.T) *testKeys {
	t.Helper()
	tk := &testKeys{payload: []byte(`{"iss":"https://idp","sub":"alice","exp":1900000000}`)}
	var err error
	if tk.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if tk.rsaPSS, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if tk.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, tk.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	var keys []jwk.Key
	for kid, raw := range map[string]any{"rsa": &tk.rsa.PublicKey, "pss": &tk.rsaPSS.PublicKey, "p256": &tk.p256.PublicKey, "ed": tk.ed.Public()} {
		k, err := jwk.FromRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		_ = k.Set(jwk.KeyIDKey, kid)
		if kid == "pss" {
			_ = k.Set(jwk.AlgorithmKey, "PS256")
		}
		keys = append(keys, k)
	}
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	if tk.set, err = parseKeySet(body, time.Unix(1_700_000_000, 0)); err != nil {
		t.Fatal(err)
	}
	return tk
}

// token signs header.payload with sign, which gets the signing input.
func (tk *testKeys) token(t *testing.T, header string, sign func(input []byte) []byte) string {
	t.Helper()
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString(tk.payload)
	return input + "." + b64.EncodeToString(sign([]byte(input)))
}

func sum(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// TestVerifySignatureRules: jwx verifies, idgate's rules stay on top: the
// key must fit the alg, ECDSA signatures are r||s, and a PS* salt is the
// hash size (jwx alone accepts any salt length).
func TestVerifySignatureRules(t *testing.T) {
	tk := mustTestKeys(t)
	pkcs := func(k *rsa.PrivateKey, h crypto.Hash) func([]byte) []byte {
		return func(in []byte) []byte {
			s, err := rsa.SignPKCS1v15(rand.Reader, k, h, sum(h, in))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	pss := func(salt int) func([]byte) []byte {
		return func(in []byte) []byte {
			s, err := rsa.SignPSS(rand.Reader, tk.rsaPSS, crypto.SHA256, sum(crypto.SHA256, in), &rsa.PSSOptions{SaltLength: salt})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	es := func(der bool) func([]byte) []byte {
		return func(in []byte) []byte {
			d := sum(crypto.SHA256, in)
			if der {
				s, err := ecdsa.SignASN1(rand.Reader, tk.p256, d)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			r, s, err := ecdsa.Sign(rand.Reader, tk.p256, d)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]byte, 64)
			r.FillBytes(out[:32])
			s.FillBytes(out[32:])
			return out
		}
	}
	ed := func(in []byte) []byte { return ed25519.Sign(tk.ed, in) }
	tests := []struct {
		name    string
		header  string
		sign    func([]byte) []byte
		wantKid string
		wantErr error
	}{
		{"RS256", `{"alg":"RS256","kid":"rsa"}`, pkcs(tk.rsa, crypto.SHA256), "rsa", nil},
		{"RS512", `{"alg":"RS512","kid":"rsa"}`, pkcs(tk.rsa, crypto.SHA512), "rsa", nil},
		{"RS256 without kid tries each fitting key", `{"alg":"RS256"}`, pkcs(tk.rsa, crypto.SHA256), "rsa", nil},
		{"PS256 salt = hash size", `{"alg":"PS256","kid":"pss"}`, pss(rsa.PSSSaltLengthEqualsHash), "pss", nil},
		{"PS256 salt 0", `{"alg":"PS256","kid":"pss"}`, pss(0), "", ErrSignature},
		{"PS256 longest salt", `{"alg":"PS256","kid":"pss"}`, pss(rsa.PSSSaltLengthAuto), "", ErrSignature},
		{"RS256 on the JWK that says PS256", `{"alg":"RS256","kid":"pss"}`, pkcs(tk.rsaPSS, crypto.SHA256), "", ErrAlgorithm},
		{"ES256", `{"alg":"ES256","kid":"p256"}`, es(false), "p256", nil},
		{"ES256 DER signature", `{"alg":"ES256","kid":"p256"}`, es(true), "", ErrSignature},
		{"ES256 naming the RSA key", `{"alg":"ES256","kid":"rsa"}`, es(false), "", ErrAlgorithm},
		{"EdDSA", `{"alg":"EdDSA","kid":"ed"}`, ed, "ed", nil},
		{"EdDSA naming the P-256 key", `{"alg":"EdDSA","kid":"p256"}`, ed, "", ErrAlgorithm},
		{"signed by the RSA key, naming the PS256 key's kid", `{"alg":"PS256","kid":"pss"}`,
			func(in []byte) []byte {
				s, _ := rsa.SignPSS(rand.Reader, tk.rsa, crypto.SHA256, sum(crypto.SHA256, in), nil)
				return s
			}, "", ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parse(tk.token(t, tc.header, tc.sign))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			k, err := verifySignature(tk.set, p)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("verifySignature = %v, want %v", err, tc.wantErr)
			}
			if err == nil && k.kid != tc.wantKid {
				t.Fatalf("verified with %q, want %q", k.kid, tc.wantKid)
			}
		})
	}
}

// acceptAll is a jwx verifier that accepts every signature.
type acceptAll struct{}

func (acceptAll) Verify([]byte, []byte, any) error { return nil }

// TestVerifierPinnedAtStart: verifySignature uses the jwx verifiers taken
// at start-up; replacing one in jwx's global registry later changes
// nothing.
func TestVerifierPinnedAtStart(t *testing.T) {
	tk := mustTestKeys(t)
	orig, err := jws.NewVerifier(jwa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	jws.RegisterVerifier(jwa.RS256, jws.VerifierFactoryFn(func() (jws.Verifier, error) { return acceptAll{}, nil }))
	t.Cleanup(func() {
		jws.RegisterVerifier(jwa.RS256, jws.VerifierFactoryFn(func() (jws.Verifier, error) { return orig, nil }))
	})
	p, err := parse(tk.token(t, `{"alg":"RS256","kid":"rsa"}`, func([]byte) []byte { return make([]byte, 256) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifySignature(tk.set, p); !errors.Is(err, ErrSignature) {
		t.Fatalf("verifySignature = %v, want %v", err, ErrSignature)
	}
}

// TestClaimsNotDecodedByJWX records why parse reads claims itself:
// jwt.Parse takes the last of a duplicated claim, parse refuses the token.
func TestClaimsNotDecodedByJWX(t *testing.T) {
	payload := `{"iss":"https://idp","sub":"alice","sub":"admin","exp":1900000000}`
	tok := b64.EncodeToString([]byte(`{"alg":"RS256","kid":"rsa"}`)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(make([]byte, 256))
	jt, err := jwt.Parse([]byte(tok), jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil {
		t.Fatalf("jwt.Parse: %v", err)
	}
	if jt.Subject() != "admin" {
		t.Fatalf("jwt.Parse sub = %q: jwx changed; revisit the note on parse", jt.Subject())
	}
	if _, err := parse(tok); !errors.Is(err, ErrMalformed) {
		t.Fatalf("parse = %v, want %v", err, ErrMalformed)
	}
}
