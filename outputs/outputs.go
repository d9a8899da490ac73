package outputs

import (
	"errors"
	"fmt"
	"time"

	"github.com/idgate/idgate/identity"
)

// ErrUnsafeUserID is returned when the user id claim cannot travel in a
// header: it holds a control character.
var ErrUnsafeUserID = errors.New("outputs: user id claim is not representable in a header")

// Signer signs a compact JWS; *signing.Key implements it.
type Signer interface {
	// Sign returns header.payload.signature, each part encoded with enc.
	SignJWS(header, payload []byte, padded bool) (string, error)
	// KeyID is the kid of the signing key.
	KeyID() string
}

// Config names the headers and the Flyte token's claims.
type Config struct {
	// UserIDHeader carries UserIDPrefix + the issuer's user claim.
	UserIDHeader string
	// UserIDPrefix is prepended to the user id ("" in Kubeflow's manifests).
	UserIDPrefix string
	// IssuerUserIDPrefix overrides UserIDPrefix for the issuers it names
	// (by exact `iss`), so that two issuers asserting the same email give
	// two user ids.
	IssuerUserIDPrefix map[string]string
	// GroupsHeader carries the groups joined by ","; absent when there are none.
	GroupsHeader string
	// FlyteHeader carries the signed claims JWT; empty disables it.
	FlyteHeader string
	// FlyteAudience is the Flyte token's `aud`.
	FlyteAudience string
	// FlyteTTL bounds the Flyte token's life (at most 5m); it never outlives
	// the token it was derived from.
	FlyteTTL time.Duration
	// ReuseMargin: a signed token is reused for the same identity while it
	// has more than this much life left, so signing is not on every request.
	// Zero means FlyteTTL/2.
	ReuseMargin time.Duration
	// Issuer is the Flyte token's `iss` (signing.issuer).
	Issuer string
	// ALB configures the ALB-compatible headers.
	ALB ALBConfig
	// CacheSize bounds the reuse cache (entries). Zero means 10000.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Renderer turns an identity into upstream headers.
type Renderer struct {
	cfg    Config
	signer Signer
	tokens *tokenCache
	alb    *tokenCache
}

// New checks cfg and returns a Renderer. signer may be nil only when
// FlyteHeader is empty.
func New(cfg Config, signer Signer) (*Renderer, error) {
	if cfg.UserIDHeader == "" {
		return nil, errors.New("outputs: userid header: required")
	}
	if cfg.FlyteTTL <= 0 || cfg.FlyteTTL > 5*time.Minute {
		cfg.FlyteTTL = 5 * time.Minute
	}
	if cfg.ReuseMargin <= 0 || cfg.ReuseMargin >= cfg.FlyteTTL {
		cfg.ReuseMargin = cfg.FlyteTTL / 2
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if (cfg.FlyteHeader != "" || cfg.ALB.Enabled) && signer == nil {
		return nil, errors.New("outputs: signed headers need a signer")
	}
	return &Renderer{cfg: cfg, signer: signer, tokens: newTokenCache(cfg.CacheSize, cfg.Now), alb: newTokenCache(cfg.CacheSize, cfg.Now)}, nil
}

// Names lists every header Render can set, for the strip list.
func (r *Renderer) Names() []string {
	names := []string{r.cfg.UserIDHeader}
	if r.cfg.GroupsHeader != "" {
		names = append(names, r.cfg.GroupsHeader)
	}
	if r.cfg.FlyteHeader != "" {
		names = append(names, r.cfg.FlyteHeader)
	}
	if r.cfg.ALB.Enabled {
		names = append(names, ALBData, ALBIdentity, ALBAccessToken)
	}
	return names
}

// Render appends to dst the headers to overwrite on the upstream request
// for id. accessToken is the caller's token for x-amzn-oidc-accesstoken ("" to
// leave it out). Groups holding a control character are left out. It fails
// when the user id cannot be represented (the caller denies) or signing fails.
func (r *Renderer) Render(dst []identity.Header, id *identity.Identity, accessToken string) ([]identity.Header, error) {
	// No user claim (a token with only sub whose userinfo failed): no user
	// id header at all, never a guess such as sub in place of an email.
	if raw := id.UserID(); raw != "" {
		uid, ok := headerValue(raw)
		if !ok {
			return dst, ErrUnsafeUserID
		}
		dst = append(dst, identity.Header{Name: r.cfg.UserIDHeader, Value: r.prefix(id.Issuer) + uid})
	}
	if r.cfg.GroupsHeader != "" && len(id.Groups) > 0 {
		if g, _ := groupsValue(id.Groups); g != "" {
			dst = append(dst, identity.Header{Name: r.cfg.GroupsHeader, Value: g})
		}
	}
	if r.cfg.FlyteHeader != "" {
		tok, err := r.flyteToken(id)
		if err != nil {
			return dst, err
		}
		dst = append(dst, identity.Header{Name: r.cfg.FlyteHeader, Value: tok})
	}
	if r.cfg.ALB.Enabled {
		return r.renderALB(dst, id, accessToken)
	}
	return dst, nil
}

// prefix is the user id prefix of issuer.
func (r *Renderer) prefix(issuer string) string {
	if p, ok := r.cfg.IssuerUserIDPrefix[issuer]; ok {
		return p
	}
	return r.cfg.UserIDPrefix
}

// renderALB writes the ALB set. x-amzn-oidc-identity is the subject; a
// subject or token that cannot travel in a header is left out.
func (r *Renderer) renderALB(dst []identity.Header, id *identity.Identity, accessToken string) ([]identity.Header, error) {
	if sub, ok := headerValue(id.Subject); ok {
		dst = append(dst, identity.Header{Name: ALBIdentity, Value: sub})
	}
	if tok, ok := headerValue(accessToken); ok && tok != "" {
		dst = append(dst, identity.Header{Name: ALBAccessToken, Value: tok})
	}
	now := r.cfg.Now()
	c := r.claims(id)
	if tok, ok := r.alb.get(&c, now, id.ExpiresAt, r.cfg.ReuseMargin); ok {
		return append(dst, identity.Header{Name: ALBData, Value: tok}), nil
	}
	exp := r.expiry(id, now)
	tok, err := r.albData(&c, exp)
	if err != nil {
		return dst, err
	}
	r.alb.put(&c, tok, exp)
	return append(dst, identity.Header{Name: ALBData, Value: tok}), nil
}

// claims is the identity part shared by the signed headers; the cache keys
// on it. A refused email (unverified, or a domain the issuer may not
// assert) is left out and email_verified says false, so no consumer of the
// signed headers takes it for an identity.
func (r *Renderer) claims(id *identity.Identity) flyteClaims {
	email, verified := id.Email, id.EmailVerified
	switch {
	case id.EmailRefused != "":
		email, verified = "", identity.VerifiedFalse
	case email == "":
		verified = identity.VerifiedAbsent
	}
	return flyteClaims{
		Issuer: r.cfg.Issuer, Audience: r.cfg.FlyteAudience, Subject: id.Subject,
		Email: email, EmailVerified: verified, GivenName: id.GivenName, FamilyName: id.FamilyName, Name: id.Name,
		PreferredUsername: id.PreferredUsername, Groups: id.Groups, IdP: id.Issuer,
	}
}

// expiry is now+FlyteTTL, never past the source token's exp.
func (r *Renderer) expiry(id *identity.Identity, now time.Time) time.Time {
	exp := now.Add(r.cfg.FlyteTTL)
	if !id.ExpiresAt.IsZero() && id.ExpiresAt.Before(exp) {
		exp = id.ExpiresAt
	}
	return exp
}

func (r *Renderer) flyteToken(id *identity.Identity) (string, error) {
	now := r.cfg.Now()
	c := r.claims(id)
	if tok, ok := r.tokens.get(&c, now, id.ExpiresAt, r.cfg.ReuseMargin); ok {
		return tok, nil
	}
	return r.signFlyte(&c, id, now)
}

// signFlyte signs and caches a new x-flyte-identity. It is apart from
// flyteToken so the claims escape to the heap (JSON) only on a miss.
func (r *Renderer) signFlyte(claims *flyteClaims, id *identity.Identity, now time.Time) (string, error) {
	c := *claims
	exp := r.expiry(id, now)
	c.IssuedAt, c.Expiry = now.Unix(), exp.Unix()
	tok, err := r.sign(&c)
	if err != nil {
		return "", err
	}
	r.tokens.put(&c, tok, exp)
	return tok, nil
}

func (r *Renderer) sign(c *flyteClaims) (string, error) {
	payload, err := c.marshal()
	if err != nil {
		return "", fmt.Errorf("outputs: flyte claims: %w", err)
	}
	header := []byte(`{"alg":"ES256","kid":"` + r.signer.KeyID() + `","typ":"JWT"}`)
	tok, err := r.signer.SignJWS(header, payload, false)
	if err != nil {
		return "", fmt.Errorf("outputs: sign flyte identity: %w", err)
	}
	return tok, nil
}
