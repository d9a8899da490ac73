package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewKeyFile(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384der, _ := x509.MarshalPKCS8PrivateKey(p384)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDer, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"sec1", writePEM(t, "EC PRIVATE KEY", sec1), ""},
		{"pkcs8", writePEM(t, "PRIVATE KEY", pkcs8), ""},
		{"p384 refused", writePEM(t, "PRIVATE KEY", p384der), "curve P-384, want P-256"},
		{"rsa refused", writePEM(t, "PRIVATE KEY", rsaDer), "want an EC P-256 key"},
		{"wrong block", writePEM(t, "CERTIFICATE", sec1), "PEM type \"CERTIFICATE\""},
		{"missing", filepath.Join(t.TempDir(), "nope.pem"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := New(Config{KeyFile: tc.path})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public().Equal(&ec.PublicKey) {
				t.Fatal("loaded a different key")
			}
		})
	}
}

// TestSignVerifiesWithPublishedJWKS checks the token with an independent
// verifier (jwx) using only what idgate publishes.
func TestSignVerifiesWithPublishedJWKS(t *testing.T) {
	k, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	header := []byte(`{"alg":"ES256","kid":"` + k.KeyID() + `","typ":"JWT"}`)
	payload := []byte(`{"sub":"alice","n":1}`)
	tok, err := k.Sign(header, payload, base64.RawURLEncoding)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "=+/") {
		t.Fatalf("token is not unpadded base64url: %s", tok)
	}
	set, err := jwk.Parse(k.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	got, err := jws.Verify([]byte(tok), jws.WithKeySet(set, jws.WithRequireKid(true)))
	if err != nil {
		t.Fatalf("independent verify: %v", err)
	}
	if string(got) != string(payload) {
		t.Fatalf("payload = %s", got)
	}
	key, _ := set.Key(0)
	if key.Algorithm() != jwa.ES256 || key.KeyID() != k.KeyID() {
		t.Fatalf("jwks key alg=%v kid=%v", key.Algorithm(), key.KeyID())
	}
	if _, err := Verify(k.Public(), tok, base64.RawURLEncoding); err != nil {
		t.Fatal(err)
	}
	tampered := tok[:len(tok)-2] + "AA"
	if _, err := Verify(k.Public(), tampered, base64.RawURLEncoding); err == nil {
		t.Fatal("tampered token verified")
	}
	block, _ := pem.Decode(k.PublicKeyPEM())
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || !pub.(*ecdsa.PublicKey).Equal(k.Public()) {
		t.Fatalf("public PEM: %v", err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal(k.JWKS(), &doc); err != nil || doc["keys"][0]["d"] != nil {
		t.Fatalf("jwks leaks private part or is invalid: %s", k.JWKS())
	}
}

func TestSignPadded(t *testing.T) {
	k, _ := New(Config{})
	tok, err := k.Sign([]byte(`{"alg":"ES256"}`), []byte(`{"a":"bc"}`), base64.URLEncoding)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(k.Public(), tok, base64.URLEncoding); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkSign(b *testing.B) {
	k, _ := New(Config{})
	h, p := []byte(`{"alg":"ES256","kid":"x"}`), []byte(`{"sub":"alice","email":"alice@example.com"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(h, p, base64.RawURLEncoding); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSignJWT: jws.Sign writes the header (alg, kid, typ and the extra
// members, exp as a number), and both forms verify independently: the
// unpadded one with jwx against the published JWKS, both with Verify
// (crypto/ecdsa) over the segments as sent.
func TestSignJWT(t *testing.T) {
	k, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"sub":"alice","exp":1800000000}`)
	extra := map[string]any{"iss": "https://idp", "client": "web", "signer": "arn:aws:x", "exp": int64(1800000000)}
	for _, tc := range []struct {
		name   string
		extra  map[string]any
		padded bool
		enc    *base64.Encoding
	}{
		{"flyte", nil, false, base64.RawURLEncoding},
		{"alb", extra, false, base64.RawURLEncoding},
		{"alb padded", extra, true, base64.URLEncoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := k.SignJWT(tc.extra, payload, tc.padded)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tok, "=") != tc.padded || strings.ContainsAny(tok, "+/") {
				t.Fatalf("padded=%v but token %s", tc.padded, tok)
			}
			got, err := Verify(k.Public(), tok, tc.enc)
			if err != nil || string(got) != string(payload) {
				t.Fatalf("Verify = %s, %v", got, err)
			}
			if !tc.padded {
				set, err := jwk.Parse(k.JWKS())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jws.Verify([]byte(tok), jws.WithKeySet(set, jws.WithRequireKid(true))); err != nil {
					t.Fatalf("jwx verify: %v", err)
				}
			}
			hb, err := tc.enc.DecodeString(strings.Split(tok, ".")[0])
			if err != nil {
				t.Fatal(err)
			}
			var h map[string]any
			if err := json.Unmarshal(hb, &h); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"alg": "ES256", "kid": k.KeyID(), "typ": "JWT"}
			for name, v := range tc.extra {
				want[name] = v
			}
			if len(h) != len(want) {
				t.Fatalf("header = %s", hb)
			}
			for name, v := range want {
				if fmt.Sprint(h[name]) != fmt.Sprint(v) && !(name == "exp" && h[name] == float64(1800000000)) {
					t.Errorf("header %s = %v, want %v (%s)", name, h[name], v, hb)
				}
			}
		})
	}
	if _, err := k.SignJWT(map[string]any{"kid": 7}, payload, false); err == nil {
		t.Fatal("a kid that is not a string was accepted")
	}
}

// BenchmarkSignJWT is what x-flyte-identity costs once per user and TTL.
func BenchmarkSignJWT(b *testing.B) {
	k, _ := New(Config{})
	p := []byte(`{"sub":"alice","email":"alice@example.com"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.SignJWT(nil, p, false); err != nil {
			b.Fatal(err)
		}
	}
}
