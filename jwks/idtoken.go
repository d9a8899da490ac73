package jwks

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/idgate/idgate/identity"
)

// ErrNonce is returned when an ID token's nonce is missing or is not the one
// the login sent.
var ErrNonce = errors.New("jwks: nonce mismatch")

// VerifyIDToken checks an OpenID Connect ID token returned to idgate's own
// login (OIDC Core 3.1.3.7): signature and iss exactly as Verify, but `aud`
// must contain clientID instead of the issuer's API audiences, `azp` must be
// clientID when present (and present when there are several audiences), and
// `nonce` must equal nonce. ID tokens are never cached.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, clientID, nonce string) (identity.Identity, error) {
	return v.verifyIDToken(ctx, raw, clientID, func(got string) bool {
		return nonce != "" && subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) == 1
	})
}

// VerifyRefreshedIDToken checks an ID token from a refresh (OIDC Core 12.2)
// exactly as VerifyIDToken, except for the nonce: it SHOULD be absent, and
// when present must be the login's (loginNonce; "" when the caller no
// longer knows it, which accepts any). The caller compares iss and sub with
// the session's.
func (v *Verifier) VerifyRefreshedIDToken(ctx context.Context, raw, clientID, loginNonce string) (identity.Identity, error) {
	return v.verifyIDToken(ctx, raw, clientID, func(got string) bool {
		return got == "" || loginNonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(loginNonce)) == 1
	})
}

func (v *Verifier) verifyIDToken(ctx context.Context, raw, clientID string, nonceOK func(string) bool) (identity.Identity, error) {
	if raw == "" {
		return identity.Identity{}, ErrMalformed
	}
	if len(raw) > v.cfg.MaxTokenBytes {
		return identity.Identity{}, ErrTooLarge
	}
	p, err := parse(raw)
	if err != nil {
		return identity.Identity{}, err
	}
	is := v.issuers[p.claims.Iss]
	if is == nil {
		return identity.Identity{}, ErrUnknownIssuer
	}
	c := &p.claims
	if !audienceOK(c.Aud, []string{clientID}) || (c.Azp != "" && c.Azp != clientID) || (len(c.Aud) > 1 && c.Azp == "") {
		return identity.Identity{}, ErrAudience
	}
	if !nonceOK(c.Nonce) {
		return identity.Identity{}, ErrNonce
	}
	now := v.cfg.Now()
	if err := v.checkTimes(c, now); err != nil {
		return identity.Identity{}, err
	}
	ks, err := is.keysFor(ctx, p.kid, now)
	if err != nil {
		return identity.Identity{}, err
	}
	k, err := verifySignature(ks, p)
	if err != nil {
		return identity.Identity{}, err
	}
	return c.toIdentity(is, p.payload, k.kid)
}
