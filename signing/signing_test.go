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
