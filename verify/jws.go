package verify

import (
	"crypto/ecdsa"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// compact is a compact JWS whose protected header has been read strictly.
type compact struct {
	raw string
	kid string
}

var b64 = base64.RawURLEncoding.Strict()

// parseCompact reads the protected header of a compact JWS. Only alg ES256,
// a kid, and typ "JWT" are allowed: any other member (jwk, jku, x5u, x5c,
// crit, b64, ...) is refused, so nothing in the token can choose its own key
// or change how it is verified.
func parseCompact(value string) (*compact, error) {
	if len(value) > maxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxTokenBytes)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c <= ' ' || c >= 0x7f {
			return nil, fmt.Errorf("%w: byte 0x%02x at %d", ErrMalformed, c, i)
		}
	}
	h, rest, ok := strings.Cut(value, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return nil, fmt.Errorf("%w: not three segments", ErrMalformed)
	}
	hdr, err := b64.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header encoding", ErrMalformed)
	}
	t := &compact{raw: value}
	var alg, typ string
	err = members(hdr, func(name string, raw []byte) error {
		switch name {
		case "alg":
			return stringValue(raw, &alg)
		case "kid":
			return stringValue(raw, &t.kid)
		case "typ":
			return stringValue(raw, &typ)
		default:
			return fmt.Errorf("%w: header member %q", ErrAlgorithm, name)
		}
	})
	if err != nil {
		return nil, err
	}
	switch {
	case alg != "ES256":
		return nil, fmt.Errorf("%w: alg %q, want ES256", ErrAlgorithm, alg)
	case t.kid == "":
		return nil, fmt.Errorf("%w: no kid", ErrMalformed)
	case typ != "" && typ != "JWT":
		return nil, fmt.Errorf("%w: typ %q", ErrMalformed, typ)
	}
	return t, nil
}

// verify checks the signature with key, the algorithm pinned to ES256 by
// the caller and not by the token, and returns the payload.
func (t *compact) verify(key *ecdsa.PublicKey) ([]byte, error) {
	payload, err := jws.Verify([]byte(t.raw), jws.WithKey(jwa.ES256, key))
	if err != nil {
		return nil, fmt.Errorf("%w: kid %q", ErrSignature, t.kid)
	}
	return payload, nil
}
