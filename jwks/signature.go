package jwks

import (
	"crypto/rsa"
)

// verifySignature checks the signature with the key named by kid, or with
// each fitting key when the token has no kid.
//
// idgate's rules come first and need no crypto: parse has already refused
// alg none, HS* and every unknown alg, and here the key must fit the alg
// (its type, curve and the JWK's own alg), else ErrAlgorithm. Only then
// does jwx verify: its jws.Verifier for the token's alg, given that one key
// of the issuer's fetched set. jwx never sees the header, so the jwk, jku,
// x5u and x5c parameters are never used, nor fetched.
//
// Why jws.Verifier and not jws.Verify(token, jws.WithKey(alg, key)): the
// latter parses the token again (header into jws.Headers, payload decoded
// and re-encoded), which cost 1.24x to 1.36x the CPU of a cold RS256 Verify
// (BENCHMARKS.md, "jwx/v2"), and it would verify a payload other than the
// one parse read the claims from when a header says "b64": false.
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

// verifyWith reports whether p's signature over its signing input, as
// sent, verifies with k. k fits p.alg.
func verifyWith(k *publicKey, p *parsed) bool {
	if p.alg.verifier.Verify([]byte(p.signingInput), p.sig, k.raw) != nil {
		return false
	}
	if p.alg.pssHash != 0 {
		// jwx accepts any PSS salt length; RFC 7518 3.5 fixes it to the
		// hash size, as idgate always required.
		h := p.alg.pssHash.New()
		h.Write([]byte(p.signingInput))
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		return rsa.VerifyPSS(k.raw.(*rsa.PublicKey), p.alg.pssHash, h.Sum(nil), p.sig, opts) == nil
	}
	return true
}
