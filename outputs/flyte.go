package outputs

import (
	"encoding/json"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/idgate/idgate/identity"
)

// flyteClaims is the payload of x-flyte-identity: the OIDC claims Flyte's
// runs service already decodes from its claims-JWT header (ALB's
// x-amzn-oidc-data by default), plus iss/aud/exp so it can be verified.
type flyteClaims struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud,omitempty"`
	Subject  string `json:"sub"`
	Email    string `json:"email,omitempty"`
	// EmailVerified is the IdP's email_verified (absent: left out), false
	// for an email idgate refused, which is then left out itself.
	EmailVerified     identity.Verified `json:"email_verified,omitempty"`
	GivenName         string            `json:"given_name,omitempty"`
	FamilyName        string            `json:"family_name,omitempty"`
	Name              string            `json:"name,omitempty"`
	PreferredUsername string            `json:"preferred_username,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	IdP               string            `json:"idp"`
	IssuedAt          int64             `json:"iat"`
	Expiry            int64             `json:"exp"`
}

func (c *flyteClaims) marshal() ([]byte, error) { return json.Marshal(c) }

// sameIdentity compares everything but the times: every signed claim
// (email_verified included), so a reused token never says what the current
// identity does not.
func (c *flyteClaims) sameIdentity(o *flyteClaims) bool {
	return c.Issuer == o.Issuer && c.Audience == o.Audience && c.Subject == o.Subject &&
		c.Email == o.Email && c.EmailVerified == o.EmailVerified && c.GivenName == o.GivenName && c.FamilyName == o.FamilyName &&
		c.Name == o.Name && c.PreferredUsername == o.PreferredUsername && c.IdP == o.IdP &&
		slices.Equal(c.Groups, o.Groups)
}

var seed = maphash.MakeSeed()

func (c *flyteClaims) hash() uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, s := range [...]string{c.Issuer, c.Audience, c.Subject, c.Email, c.GivenName,
		c.FamilyName, c.Name, c.PreferredUsername, c.IdP} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	for _, g := range c.Groups {
		h.WriteString(g)
		h.WriteByte(0)
	}
	h.WriteByte(byte(c.EmailVerified))
	return h.Sum64()
}

type signedToken struct {
	claims flyteClaims
	token  string
	exp    time.Time
}

// tokenCache keeps one signed token per identity so a busy user costs a hash
// and a comparison, not an ECDSA signature. It is bounded; when full, an
// arbitrary entry is evicted (expired ones first fall out on lookup).
type tokenCache struct {
	mu  sync.Mutex
	max int
	m   map[uint64]*signedToken
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[uint64]*signedToken)}
}

// get returns the token signed for c while it has more than margin left,
// and only when its exp is not past notAfter (the source token's exp; zero:
// no bound): the same identity may come back with a token that expires
// sooner than the one the cached value was signed for.
func (tc *tokenCache) get(c *flyteClaims, now, notAfter time.Time, margin time.Duration) (string, bool) {
	k := c.hash()
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.m[k]
	if !ok || !e.claims.sameIdentity(c) {
		return "", false
	}
	if !notAfter.IsZero() && e.exp.After(notAfter) {
		return "", false // kept: a later token of the same user may use it
	}
	if e.exp.Sub(now) <= margin {
		delete(tc.m, k)
		return "", false
	}
	return e.token, true
}

func (tc *tokenCache) put(c *flyteClaims, token string, exp time.Time) {
	k := c.hash()
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if _, ok := tc.m[k]; !ok && len(tc.m) >= tc.max {
		for victim := range tc.m {
			delete(tc.m, victim)
			break
		}
	}
	tc.m[k] = &signedToken{claims: *c, token: token, exp: exp}
}
