package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Config says where the key comes from.
type Config struct {
	// KeyFile is a PEM file holding an EC P-256 private key (PKCS#8 or SEC 1).
	// Empty generates a fresh key at start-up, which is fine for one replica
	// but means each replica signs with its own key and each restart rotates.
	KeyFile string
}

// Key signs compact JWS with ES256.
type Key struct {
	priv   *ecdsa.PrivateKey
	signer jws.Signer // jwx's ES256 signer
	kid    string
	jwks   []byte
	pubPEM []byte
}

// New loads or generates the signing key.
func New(cfg Config) (*Key, error) {
	var priv *ecdsa.PrivateKey
	if cfg.KeyFile == "" {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("signing: generate key: %w", err)
		}
		priv = k
	} else {
		data, err := os.ReadFile(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		if priv, err = ParsePEM(data); err != nil {
			return nil, fmt.Errorf("signing: %s: %w", cfg.KeyFile, err)
		}
	}
	return fromPrivate(priv)
}

// ParsePEM parses an EC P-256 private key in PKCS#8 ("PRIVATE KEY") or
// SEC 1 ("EC PRIVATE KEY") PEM. config validates signing.key_file with it,
// so a file that passes validation is one New loads.
func ParsePEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM type %q, want \"PRIVATE KEY\" or \"EC PRIVATE KEY\"", block.Type)
	}
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T, want an EC P-256 key", key)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("curve %s, want P-256", ec.Curve.Params().Name)
	}
	return ec, nil
}

func fromPrivate(priv *ecdsa.PrivateKey) (*Key, error) {
	pub, err := jwk.FromRaw(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signing: public jwk: %w", err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing: thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: "ES256", jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(k, v); err != nil {
			return nil, fmt.Errorf("signing: set %s: %w", k, err)
		}
	}
	set, err := json.Marshal(map[string]any{"keys": []jwk.Key{pub}})
	if err != nil {
		return nil, fmt.Errorf("signing: marshal jwks: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signing: marshal public key: %w", err)
	}
	signer, err := jws.NewSigner(jwa.ES256)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return &Key{
		priv:   priv,
		signer: signer,
		kid:    kid,
		jwks:   set,
		pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	}, nil
}

// KeyID is the RFC 7638 thumbprint of the public key, used as `kid`.
func (k *Key) KeyID() string { return k.kid }

// JWKS is the public key set as served on /.well-known/jwks.json.
func (k *Key) JWKS() []byte { return k.jwks }

// PublicKeyPEM is the public key as PEM (SubjectPublicKeyInfo), the format
// ALB serves on its public-key endpoint.
func (k *Key) PublicKeyPEM() []byte { return k.pubPEM }

// Public returns the public key.
func (k *Key) Public() *ecdsa.PublicKey { return &k.priv.PublicKey }

// Sign returns a compact JWS of payload under exactly the protected header
// given (JSON that must name alg ES256 and the kid), each part encoded with
// enc (base64.RawURLEncoding for standard JWS, base64.URLEncoding for ALB's
// padded form), signed by SignInput over the segments as written. It keeps
// the header's bytes, so tests and tooling can sign any header, including
// the odd ones a verifier must refuse.
func (k *Key) Sign(header, payload []byte, enc *base64.Encoding) (string, error) {
	hl, pl := enc.EncodedLen(len(header)), enc.EncodedLen(len(payload))
	buf := make([]byte, hl+1+pl, hl+1+pl+1+enc.EncodedLen(SignatureSize))
	enc.Encode(buf, header)
	buf[hl] = '.'
	enc.Encode(buf[hl+1:], payload)
	sig, err := k.SignInput(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// SignatureSize is the length of an ES256 signature as JWS writes it
// (R and S, 32 bytes each, RFC 7518 section 3.4).
const SignatureSize = 64

// SignInput returns the raw ES256 signature (R||S, SignatureSize bytes) of
// a JWS signing input, the encoded header and payload joined by '.', as
// jwx's ES256 signer makes it. Callers that write their own header and
// payload (the signed upstream headers, which rebuild a token from a kept
// signature) sign through it.
func (k *Key) SignInput(input []byte) ([]byte, error) {
	sig, err := k.signer.Sign(input, k.priv)
	if err != nil {
		return nil, fmt.Errorf("signing: sign: %w", err)
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("signing: ES256 signature of %d bytes", len(sig))
	}
	return sig, nil
}

// Verify checks an ES256 compact JWS made by Sign against the public key and
// returns the decoded payload. Tests and tooling use it; enc must match the
// encoding used to sign. It is written with crypto/ecdsa on purpose, not
// jwx, so that tests check what jwx signs with a second implementation.
func Verify(pub *ecdsa.PublicKey, token string, enc *base64.Encoding) ([]byte, error) {
	var dots []int
	for i := 0; i < len(token); i++ {
		if token[i] == '.' {
			dots = append(dots, i)
		}
	}
	if len(dots) != 2 {
		return nil, errors.New("signing: not a compact JWS")
	}
	sig, err := enc.DecodeString(token[dots[1]+1:])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("signing: bad signature encoding")
	}
	digest := sha256.Sum256([]byte(token[:dots[1]]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return nil, errors.New("signing: signature mismatch")
	}
	payload, err := enc.DecodeString(token[dots[0]+1 : dots[1]])
	if err != nil {
		return nil, fmt.Errorf("signing: payload: %w", err)
	}
	return payload, nil
}
