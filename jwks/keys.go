package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384 and SHA-512
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// keyKind is the kind of public key an algorithm needs.
type keyKind uint8

const (
	kindUnsupported keyKind = iota
	kindRSA
	kindP256
	kindP384
	kindEd25519
)

// algorithm is one allowed JWS algorithm (RFC 7518 section 3). jwx's
// verifier does the signature arithmetic (see verifySignature); which
// algorithms exist, and which key each may use, is idgate's rule.
type algorithm struct {
	name string
	jwa  jwa.SignatureAlgorithm
	kind keyKind
	// pssHash is the hash of a PS* algorithm, 0 otherwise: RFC 7518 3.5
	// fixes the salt length to the hash size, which jwx does not check.
	pssHash crypto.Hash
	// verifier is jwx's verifier for jwa, taken once at start-up (jwx's
	// verifiers hold no state), so a later jws.RegisterVerifier elsewhere
	// in the process cannot change how idgate verifies.
	verifier jws.Verifier
}

// newAlg returns the algorithm with jwx's verifier for a; a is one of
// jwx's built-in algorithms, so a missing verifier is a build fault.
func newAlg(name string, a jwa.SignatureAlgorithm, kind keyKind, pssHash crypto.Hash) algorithm {
	v, err := jws.NewVerifier(a)
	if err != nil {
		panic("jwks: jwx has no verifier for " + name + ": " + err.Error())
	}
	return algorithm{name: name, jwa: a, kind: kind, pssHash: pssHash, verifier: v}
}

var (
	algRS256 = newAlg("RS256", jwa.RS256, kindRSA, 0)
	algRS384 = newAlg("RS384", jwa.RS384, kindRSA, 0)
	algRS512 = newAlg("RS512", jwa.RS512, kindRSA, 0)
	algPS256 = newAlg("PS256", jwa.PS256, kindRSA, crypto.SHA256)
	algPS384 = newAlg("PS384", jwa.PS384, kindRSA, crypto.SHA384)
	algPS512 = newAlg("PS512", jwa.PS512, kindRSA, crypto.SHA512)
	algES256 = newAlg("ES256", jwa.ES256, kindP256, 0)
	algES384 = newAlg("ES384", jwa.ES384, kindP384, 0)
	algEdDSA = newAlg("EdDSA", jwa.EdDSA, kindEd25519, 0)
)

// lookupAlg returns the allowed algorithm named name, or nil: `none`, HS*
// and everything else unknown is refused.
func lookupAlg(name string) *algorithm {
	switch name {
	case "RS256":
		return &algRS256
	case "RS384":
		return &algRS384
	case "RS512":
		return &algRS512
	case "PS256":
		return &algPS256
	case "PS384":
		return &algPS384
	case "PS512":
		return &algPS512
	case "ES256":
		return &algES256
	case "ES384":
		return &algES384
	case "EdDSA":
		return &algEdDSA
	}
	return nil
}

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// publicKey is one JWK converted once, at fetch time, to a raw crypto key.
type publicKey struct {
	// seen is when a fetched set last held this key; a key the IdP stops
	// publishing is kept until MaxStale after it (see retain).
	seen time.Time
	kid  string
	alg  string // the JWK's alg, "" when it has none
	kind keyKind
	// raw is the public key handed to jwx: *rsa.PublicKey,
	// *ecdsa.PublicKey or ed25519.PublicKey; nil when kind is unsupported.
	raw any
}

// fits reports whether a token signed with alg may be checked with k.
func (k *publicKey) fits(alg *algorithm) bool {
	return k.kind == alg.kind && (k.alg == "" || k.alg == alg.name)
}

// keySet is an issuer's keys from one successful fetch. It is immutable.
type keySet struct {
	byKid   map[string][]*publicKey
	all     []*publicKey
	usable  int
	fetched time.Time
	// refresh is when, after fetched, the set is due to be refetched; past
	// it the set is stale (see issuer.current).
	refresh time.Duration
	// retainedUntil is when the first key kept from an earlier fetch (see
	// retain) expires; zero when there is none.
	retainedUntil time.Time
}

// has reports whether the set holds a key with kid.
func (ks *keySet) has(kid string) bool {
	_, ok := ks.byKid[kid]
	return ok
}

// parseKeySet parses a JWKS document. Keys jwx cannot parse, encryption
// keys and unsupported key types are skipped, so one odd key does not cost
// the others; a set left with no usable key is an error.
func parseKeySet(body []byte, fetched time.Time) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode jwks: %w", err)
	}
	ks := &keySet{byKid: make(map[string][]*publicKey, len(doc.Keys)), fetched: fetched}
	for _, raw := range doc.Keys {
		k, err := convertKey(raw)
		if err != nil || k == nil {
			continue
		}
		k.seen = fetched
		ks.all = append(ks.all, k)
		ks.byKid[k.kid] = append(ks.byKid[k.kid], k)
		if k.kind != kindUnsupported {
			ks.usable++
		}
	}
	if ks.usable == 0 {
		return nil, errEmptySet
	}
	return ks, nil
}

// convertKey turns one JWK into a publicKey; nil for keys not meant for
// signatures. Weak RSA keys and other curves become kindUnsupported, so a
// token naming them is refused as an algorithm error, not refetched for.
func convertKey(raw json.RawMessage) (*publicKey, error) {
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, err
	}
	if u := key.KeyUsage(); u != "" && u != "sig" {
		return nil, nil
	}
	var v any
	if err := key.Raw(&v); err != nil {
		return nil, err
	}
	k := &publicKey{kid: key.KeyID(), alg: key.Algorithm().String()}
	if s, ok := v.(crypto.Signer); ok { // a private JWK: use its public half
		v = s.Public()
	}
	switch pub := v.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() >= minRSABits {
			k.kind, k.raw = kindRSA, pub
		}
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			k.kind, k.raw = kindP256, pub
		case elliptic.P384():
			k.kind, k.raw = kindP384, pub
		}
	case ed25519.PublicKey:
		k.kind, k.raw = kindEd25519, pub
	}
	return k, nil
}

// retain adds to next the keys of prev that next no longer publishes and
// that a fetched set held within maxStale: an IdP replica serving a
// truncated or foreign set (flapping) does not cut off tokens signed with
// the current key. A key the IdP really withdraws therefore stays valid for
// up to maxStale; lower tokens.max_stale, or reload, to make a removal take
// effect sooner.
func retain(prev, next *keySet, now time.Time, maxStale time.Duration) *keySet {
	if prev == nil {
		return next
	}
	for _, k := range prev.all {
		if next.has(k.kid) || now.Sub(k.seen) > maxStale {
			continue
		}
		next.all = append(next.all, k)
		next.byKid[k.kid] = append(next.byKid[k.kid], k)
		if k.kind != kindUnsupported {
			next.usable++
		}
		if until := k.seen.Add(maxStale); next.retainedUntil.IsZero() || until.Before(next.retainedUntil) {
			next.retainedUntil = until
		}
	}
	return next
}

// prune returns a copy of ks without the retained keys last seen more than
// maxStale before now, so a withdrawn key stops verifying maxStale after the
// IdP last published it even while the set itself is fresh.
func (ks *keySet) prune(now time.Time, maxStale time.Duration) *keySet {
	out := &keySet{byKid: make(map[string][]*publicKey, len(ks.byKid)), fetched: ks.fetched, refresh: ks.refresh}
	for _, k := range ks.all {
		retained := k.seen.Before(ks.fetched)
		if retained && now.Sub(k.seen) > maxStale {
			continue
		}
		out.all = append(out.all, k)
		out.byKid[k.kid] = append(out.byKid[k.kid], k)
		if k.kind != kindUnsupported {
			out.usable++
		}
		if until := k.seen.Add(maxStale); retained && (out.retainedUntil.IsZero() || until.Before(out.retainedUntil)) {
			out.retainedUntil = until
		}
	}
	return out
}
