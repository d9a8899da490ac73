package jwks

import (
	"bytes"
	"crypto/rsa"

	"github.com/lestrrat-go/jwx/v2/jws"
)

// verifySignature checks the signature with the key named by kid, or with
// each fitting key when the token has no kid.
//
// idgate's rules come first and need no crypto: parse has already refused
// alg none, HS* and every unknown alg, and here the key must fit the alg
// (its type, curve and the JWK's own alg), else ErrAlgorithm. Only then
// does jwx verify, with jws.WithKey and that one key of the issuer's set:
// no key set, no key provider, no auto-verification, so the jwk, jku, x5u
// and x5c header parameters are never used, nor fetched.
func verifySignature(ks *keySet, p *parsed) (*publicKey, error) {
	cands := ks.all
	if p.kid != "" {
		cands = ks.byKid[p.kid]
	}
	fitting := false
	for _, k := range cands {
		if !k.fits(p.alg) {
			continue
		}
		fitting = true
		if verifyWith(k, p) {
			return k, nil
		}
	}
	if !fitting {
		return nil, ErrAlgorithm
	}
	return nil, ErrSignature
}

// verifyWith reports whether jwx verifies p with k, over exactly the bytes
// parse decoded the claims from. Whatever jwx refuses, also a header it
// cannot read (a malformed x5c, say), is a bad signature: the label stays
// the one the token earns against the issuer's key.
func verifyWith(k *publicKey, p *parsed) bool {
	payload, err := jws.Verify([]byte(p.compact), jws.WithKey(p.alg.jwa, k.raw))
	if err != nil {
		return false
	}
	// jwx honours "b64": false (RFC 7797) even without crit; parse has
	// refused crit, and the payload jwx verified must be the one whose
	// claims were read.
	if !bytes.Equal(payload, p.payload) {
		return false
	}
	if p.alg.pssHash != 0 {
		// jwx accepts any PSS salt length; RFC 7518 3.5 says the hash size.
		h := p.alg.pssHash.New()
		h.Write([]byte(p.signingInput))
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		return rsa.VerifyPSS(k.raw.(*rsa.PublicKey), p.alg.pssHash, h.Sum(nil), p.sig, opts) == nil
	}
	return true
}
