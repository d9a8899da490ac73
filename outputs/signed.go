package outputs

import (
	"encoding/base64"
	"fmt"
	"time"
	"unsafe"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/signing"
)

// signedHeader makes one kind of signed upstream header (x-flyte-identity,
// x-amzn-oidc-data): a compact JWS whose header and payload it writes
// itself from the identity's claims, so that a kept signature and its
// times rebuild the same token on the next request. Only the signature is
// cached: a token is ~0.4 KB (several KB with many groups), the
// signature 64 bytes, and the claims of a rebuilt token always come from
// the request's own identity.
type signedHeader struct {
	alb   bool      // x-amzn-oidc-data; else x-flyte-identity
	albc  ALBConfig // client, signer, padding of x-amzn-oidc-data
	kid   string
	enc   *base64.Encoding
	cache *sigCache
	// fixed is the encoded protected header when it is the same for every
	// token (x-flyte-identity's: alg, kid, typ), written once.
	fixed []byte
}

// newFlyteHeader is x-flyte-identity: the Flyte claims under a header of
// alg, kid and typ, unpadded base64url (standard JWS).
func newFlyteHeader(kid string, cache *sigCache) *signedHeader {
	s := &signedHeader{kid: kid, enc: base64.RawURLEncoding, cache: cache}
	s.fixed = s.enc.AppendEncode(nil, s.header(nil, nil, 0))
	return s
}

// newALBHeader is x-amzn-oidc-data as ALB writes it: its metadata (the
// IdP as iss, client, signer, exp) in the protected header, the userinfo
// claims in the payload, padded base64url when cfg.Padding.
func newALBHeader(kid string, cfg ALBConfig, cache *sigCache) *signedHeader {
	enc := base64.RawURLEncoding
	if cfg.Padding {
		enc = base64.URLEncoding
	}
	return &signedHeader{alb: true, albc: cfg, kid: kid, enc: enc, cache: cache}
}

func (s *signedHeader) what() string {
	if s.alb {
		return "alb data"
	}
	return "flyte identity"
}

// header appends the protected header (JSON) of a token expiring at exp.
// (Methods, not function values: the scratch buffer stays on the stack.)
func (s *signedHeader) header(dst []byte, c *flyteClaims, exp int64) []byte {
	dst = appendStr(dst, '{', "alg", "ES256")
	if s.alb {
		dst = appendStr(dst, ',', "client", s.albc.Client)
		dst = appendInt(dst, "exp", exp)
		dst = appendStr(dst, ',', "iss", c.IdP)
	}
	dst = appendStr(dst, ',', "kid", s.kid)
	if s.alb {
		dst = appendStr(dst, ',', "signer", s.albc.Signer)
	}
	dst = appendStr(dst, ',', "typ", "JWT")
	return append(dst, '}')
}

// payload appends the claims (JSON) of a token signed at iat, expiring at exp.
func (s *signedHeader) payload(dst []byte, c *flyteClaims, iat, exp int64) []byte {
	if s.alb {
		return appendALBJSON(dst, c, exp)
	}
	return c.appendJSON(dst, iat, exp)
}

// token returns the header's value for the claims c of id: rebuilt from a
// kept signature while it has more than margin left and does not outlive
// id's token, else signed anew (valid until min(now+ttl, id's exp)).
func (s *signedHeader) token(signer Signer, c *flyteClaims, id *identity.Identity, now time.Time, ttl, margin time.Duration) (string, error) {
	if e, ok := s.cache.get(c, now, id.ExpiresAt, margin); ok {
		return s.finish(s.bytes(c, e.iat, e.exp), e.sig[:]), nil
	}
	exp := now.Add(ttl)
	if !id.ExpiresAt.IsZero() && id.ExpiresAt.Before(exp) {
		exp = id.ExpiresAt
	}
	e := signature{iat: now.Unix(), exp: exp.Unix()}
	input := s.bytes(c, e.iat, e.exp)
	sig, err := signer.SignInput(input)
	if err != nil {
		return "", fmt.Errorf("outputs: sign %s: %w", s.what(), err)
	}
	if len(sig) != len(e.sig) {
		return "", fmt.Errorf("outputs: sign %s: signature of %d bytes, want %d", s.what(), len(sig), len(e.sig))
	}
	copy(e.sig[:], sig)
	s.cache.put(c, e)
	return s.finish(input, sig), nil
}

// finish appends .signature to the signing input bytes made (within the
// room it left) and returns the token; input is never written again.
func (s *signedHeader) finish(input, sig []byte) string {
	out := append(input, '.')
	out = s.enc.AppendEncode(out, sig)
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// bytes writes the JWS signing input, header.payload encoded, in one
// allocation with room left for the signature (finish).
func (s *signedHeader) bytes(c *flyteClaims, iat, exp int64) []byte {
	var scratch [1024]byte // header and payload JSON; most identities fit
	js := scratch[:0]
	hl := len(s.fixed) // encoded, when the header is the same for every token
	if hl == 0 {
		js = s.header(js, c, exp)
		hl = s.enc.EncodedLen(len(js))
	}
	pj := len(js)
	js = s.payload(js, c, iat, exp)
	n := hl + 1 + s.enc.EncodedLen(len(js)-pj) + 1 + s.enc.EncodedLen(signing.SignatureSize)
	out := make([]byte, 0, n)
	if len(s.fixed) > 0 {
		out = append(out, s.fixed...)
	} else {
		out = s.enc.AppendEncode(out, js[:pj])
	}
	out = append(out, '.')
	return s.enc.AppendEncode(out, js[pj:])
}
