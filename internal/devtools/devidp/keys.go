package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Algs lists the signature algorithms the provider signs with, in the order
// its JWKS serves them.
var Algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

var b64 = base64.RawURLEncoding

// signingKey is one published key: its kid, its alg and its private half.
// The six RSA algorithms share one RSA key per generation (each with its own
// kid and alg) so that starting a provider costs one RSA key generation.
type signingKey struct {
	kid  string
	alg  string
	priv crypto.Signer
}

// newKeys makes one key per algorithm for key generation gen.
func newKeys(gen int) (map[string]*signingKey, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate rsa key: %w", err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate p-256 key: %w", err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate p-384 key: %w", err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate ed25519 key: %w", err)
	}
	keys := make(map[string]*signingKey, len(Algs))
	for _, alg := range Algs {
		var priv crypto.Signer = rsaKey
		switch alg {
		case "ES256":
			priv = p256
		case "ES384":
			priv = p384
		case "EdDSA":
			priv = edKey
		}
		keys[alg] = &signingKey{kid: newKeyID(alg, gen), alg: alg, priv: priv}
	}
	return keys, nil
}

func newKeyID(alg string, gen int) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%s-%d-%s", strings.ToLower(alg), gen, hex.EncodeToString(r[:]))
}

// hashFor returns the hash an RS/PS/ES algorithm uses.
func hashFor(alg string) crypto.Hash {
	switch alg[len(alg)-3:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

func digest(alg string, input []byte) (crypto.Hash, []byte) {
	h := hashFor(alg)
	hh := h.New()
	hh.Write(input)
	return h, hh.Sum(nil)
}

// sign computes the JWS signature (RFC 7518 section 3) of input.
func (k *signingKey) sign(input []byte) ([]byte, error) {
	switch priv := k.priv.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, input), nil
	case *rsa.PrivateKey:
		h, d := digest(k.alg, input)
		if strings.HasPrefix(k.alg, "PS") {
			return rsa.SignPSS(rand.Reader, priv, h, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, priv, h, d)
	case *ecdsa.PrivateKey:
		_, d := digest(k.alg, input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, d)
		if err != nil {
			return nil, err
		}
		size := (priv.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig, nil
	}
	return nil, errors.New("devidp: unsupported key type")
}

// verify checks a JWS signature made by k.
func (k *signingKey) verify(input, sig []byte) bool {
	switch pub := k.priv.Public().(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(pub, input, sig)
	case *rsa.PublicKey:
		h, d := digest(k.alg, input)
		if strings.HasPrefix(k.alg, "PS") {
			return rsa.VerifyPSS(pub, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(pub, h, d, sig) == nil
	case *ecdsa.PublicKey:
		_, d := digest(k.alg, input)
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, d, r, s)
	}
	return false
}

// jwk renders the public half of k as a JSON Web Key (RFC 7517).
func (k *signingKey) jwk() map[string]any {
	m := map[string]any{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch pub := k.priv.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64.EncodeToString(pub.N.Bytes())
		m["e"] = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		raw, _ := pub.ECDH()
		pt := raw.Bytes() // 0x04 || X || Y
		m["kty"] = "EC"
		m["crv"] = pub.Curve.Params().Name
		m["x"] = b64.EncodeToString(pt[1 : 1+size])
		m["y"] = b64.EncodeToString(pt[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64.EncodeToString(pub)
	}
	return m
}

// publicKeyPEM is the PKIX PEM encoding of k's public half.
func (k *signingKey) publicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// compact builds a compact JWS from a header and claims, signing it with
// sign (nil for an empty signature).
func compact(header, claims map[string]any, sign func([]byte) ([]byte, error)) (string, error) {
	return compactEdit(header, claims, sign, nil)
}

// compactEdit is compact with the encoded claims passed through edit.
func compactEdit(header, claims map[string]any, sign func([]byte) ([]byte, error), edit func([]byte) []byte) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("devidp: encode header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: encode claims: %w", err)
	}
	if edit != nil {
		cb = edit(cb)
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	if sign == nil {
		return input + ".", nil
	}
	sig, err := sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("devidp: sign: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func hmacSHA256(key []byte) func([]byte) ([]byte, error) {
	return func(input []byte) ([]byte, error) {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil), nil
	}
}
