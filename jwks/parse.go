package jwks

import (
	"encoding/base64"
	"strings"
)

// b64 decodes JWS segments: unpadded base64url that refuses non-zero
// trailing bits, so one token has exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// parsed is a token that passed the cheap checks: shape, header, allowed
// algorithm, decodable claims. Nothing about it is trusted yet.
type parsed struct {
	alg          *algorithm
	kid          string
	signingInput string // header.payload
	sig          []byte
	payload      []byte
	claims       claims
}

// parse does every check that needs no key: three segments, base64url,
// header JSON, an allowed alg, no crit, claims JSON (names exact and
// unique in both). It never fetches.
//
// Header and claims are read here with claimjson, not with jws.Parse or
// jwt.Parse (jwx v2.1.7): jwx matches names case-sensitively but takes the
// last of a duplicated member ({"sub":"alice","sub":"admin"} is admin,
// {"alg":"RS256","alg":"HS256"} is HS256), and its base64 decoder accepts
// padding and the standard alphabet, so one token would have several
// spellings. jwx only verifies the signature (verifySignature), over the
// token this function accepted.
func parse(token string) (*parsed, error) {
	if !compactChars(token) {
		return nil, ErrMalformed
	}
	i := strings.IndexByte(token, '.')
	if i <= 0 {
		return nil, ErrMalformed
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j <= 0 {
		return nil, ErrMalformed
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return nil, ErrMalformed
	}
	hb, err := b64.DecodeString(token[:i])
	if err != nil {
		return nil, ErrMalformed
	}
	h, err := parseHeader(hb)
	if err != nil {
		return nil, ErrMalformed
	}
	p := &parsed{alg: lookupAlg(h.Alg), kid: h.Kid, signingInput: token[:j]}
	if p.alg == nil {
		return nil, ErrAlgorithm
	}
	if j+1 == len(token) { // no signature
		return nil, ErrMalformed
	}
	if len(h.Crit) > 0 {
		// No extension is understood, so any crit must be refused (RFC 7515 4.1.11).
		return nil, ErrMalformed
	}
	if p.sig, err = b64.DecodeString(token[j+1:]); err != nil {
		return nil, ErrMalformed
	}
	if p.payload, err = b64.DecodeString(token[i+1 : j]); err != nil {
		return nil, ErrMalformed
	}
	if err := parseClaims(p.payload, &p.claims); err != nil {
		return nil, ErrMalformed
	}
	if p.claims.Iss == "" || p.claims.Sub == "" || p.claims.Exp == nil {
		return nil, ErrMalformed
	}
	return p, nil
}

// base64url is the alphabet of a compact JWS segment.
var base64url = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_." {
		t[c] = true
	}
	return t
}()

// compactChars reports whether token holds only base64url characters and
// dots. The base64 decoder skips CR and LF, which would otherwise let one
// signature be spelled many ways.
func compactChars(token string) bool {
	for i := 0; i < len(token); i++ {
		if !base64url[token[i]] {
			return false
		}
	}
	return true
}
