package outputs

import (
	"errors"
	"fmt"
	"time"

	"github.com/idgate/idgate/identity"
)

// ErrUnsafeUserID is returned when the user id claim, or a claim a declared
// header carries, cannot travel in a header: it holds a control character.
var ErrUnsafeUserID = errors.New("outputs: user id claim is not representable in a header")

// Signer makes the ES256 signatures of the signed headers; *signing.Key
// implements it (jwx's ES256 signer).
type Signer interface {
	// KeyID is the kid the tokens' protected headers name.
	KeyID() string
	// SignInput returns the raw ES256 signature (R||S, 64 bytes) of a JWS
	// signing input: the encoded protected header and payload joined by '.'.
	SignInput(input []byte) ([]byte, error)
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
	// FlyteTTL bounds the Flyte token's and the ALB token's life: positive
	// and at most [MaxFlyteTTL] (New refuses others, never replaces them); it
	// never outlives the token it was derived from.
	FlyteTTL time.Duration
	// ReuseMargin: a signed token is reused for the same identity while it
	// has more than this much life left, so signing is not on every request.
	// Zero means FlyteTTL/2.
	ReuseMargin time.Duration
	// Issuer is the Flyte token's `iss` (signing.issuer).
	Issuer string
	// ALB configures the ALB-compatible headers.
	ALB ALBConfig
	// Headers are the declared plain headers, written after the built-in
	// ones; a name may not be one of theirs nor repeat.
	Headers []HeaderOutput
	// CacheSize bounds the reuse cache (entries). Zero means 10000.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Renderer turns an identity into upstream headers.
type Renderer struct {
	cfg     Config
	signer  Signer
	outputs []output
	flyte   *signedHeader
	alb     *signedHeader
}

// New checks cfg (every [Config.Problems]) and returns a Renderer. signer may be nil only when
// FlyteHeader is empty and ALB is off.
func New(cfg Config, signer Signer) (*Renderer, error) {
	if ps := cfg.Problems(""); len(ps) > 0 {
		return nil, fmt.Errorf("outputs: %w", errors.Join(ps...))
	}
	if cfg.ReuseMargin <= 0 || cfg.ReuseMargin >= cfg.FlyteTTL {
		cfg.ReuseMargin = cfg.FlyteTTL / 2
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultConfig().CacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if (cfg.FlyteHeader != "" || cfg.ALB.Enabled) && signer == nil {
		return nil, errors.New("outputs: signed headers need a signer")
	}
	r := &Renderer{cfg: cfg, signer: signer, outputs: table(&cfg)}
	if signer != nil {
		r.flyte = newFlyteHeader(signer.KeyID(), newSigCache(cfg.CacheSize, cfg.Now))
		r.alb = newALBHeader(signer.KeyID(), cfg.ALB, newSigCache(cfg.CacheSize, cfg.Now))
	}
	return r, nil
}

// Names lists every header Render can set, for the strip list.
func (r *Renderer) Names() []string {
	names := make([]string, len(r.outputs))
	for i, o := range r.outputs {
		names[i] = o.name
	}
	return names
}

// Render appends to dst the headers to overwrite on the upstream request
// for id, one per output that has a value. accessToken is the caller's
// token for x-amzn-oidc-accesstoken ("" to leave it out). Groups holding a
// control character are left out. It fails when the user id or a declared
// claim cannot be represented (ErrUnsafeUserID: the caller denies) or
// signing fails.
func (r *Renderer) Render(dst []identity.Header, id *identity.Identity, accessToken string) ([]identity.Header, error) {
	for i := range r.outputs {
		o := &r.outputs[i]
		v, err := r.value(o, id, accessToken)
		switch {
		case err == errSkip:
			continue
		case err != nil:
			return dst, err
		}
		dst = append(dst, identity.Header{Name: o.name, Value: v})
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

// albToken is x-amzn-oidc-data for id, reused while it has life left.
func (r *Renderer) albToken(id *identity.Identity) (string, error) {
	c := r.claims(id)
	return r.alb.token(r.signer, &c, id, r.cfg.Now(), r.cfg.FlyteTTL, r.cfg.ReuseMargin)
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

// flyteToken is x-flyte-identity for id, reused while it has life left.
func (r *Renderer) flyteToken(id *identity.Identity) (string, error) {
	c := r.claims(id)
	return r.flyte.token(r.signer, &c, id, r.cfg.Now(), r.cfg.FlyteTTL, r.cfg.ReuseMargin)
}
