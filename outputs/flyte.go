package outputs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"time"
	"unsafe"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/cache"
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

// fingerprint identifies everything signed but the times: every claim
// (email_verified included), length-prefixed, under SHA-256, so a reused
// token never says what the current identity does not and the cache keeps
// 32 bytes per identity instead of a copy of its claims.
func (c *flyteClaims) fingerprint() [32]byte {
	var buf [512]byte // most identities fit: no heap
	b := buf[:0]
	for _, s := range [...]string{c.Issuer, c.Audience, c.Subject, c.Email, c.GivenName,
		c.FamilyName, c.Name, c.PreferredUsername, c.IdP} {
		b = appendField(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Groups)))
	for _, g := range c.Groups {
		b = appendField(b, g)
	}
	b = append(b, byte(c.EmailVerified))
	return sha256.Sum256(b)
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// signedToken is a cached signature: the token and its exp, nothing of the
// claims (the key is their fingerprint).
type signedToken struct {
	token string
	exp   time.Time
}

// signedBytesPerEntry is the average size budget of a cached signed token
// (a typical one is about 0.7 KB): the cache holds at most CacheSize of them
// and at most CacheSize times this many bytes.
const signedBytesPerEntry = 2 << 10

// tokenCache keeps one signed token per identity so a busy user costs a hash
// and a lookup, not an ECDSA signature. It is bounded in entries and bytes;
// expired entries are evicted first.
type tokenCache struct {
	c *cache.Cache[[32]byte, *signedToken]
}

func newTokenCache(max int, now func() time.Time) *tokenCache {
	return &tokenCache{c: cache.New[[32]byte](
		cache.Config{MaxEntries: max, MaxBytes: int64(max) * signedBytesPerEntry},
		func(e *signedToken) bool { return !now().Before(e.exp) },
	)}
}

// get returns the token signed for c while it has more than margin left,
// and only when its exp is not past notAfter (the source token's exp; zero:
// no bound): the same identity may come back with a token that expires
// sooner than the one the cached value was signed for.
func (tc *tokenCache) get(c *flyteClaims, now, notAfter time.Time, margin time.Duration) (string, bool) {
	k := c.fingerprint()
	e, ok := tc.c.Get(k)
	if !ok {
		return "", false
	}
	if !notAfter.IsZero() && e.exp.After(notAfter) {
		return "", false // kept: a later token of the same user may use it
	}
	if e.exp.Sub(now) <= margin {
		tc.c.DeleteIf(k, func(cur *signedToken) bool { return cur == e })
		return "", false
	}
	return e.token, true
}

func (tc *tokenCache) put(c *flyteClaims, token string, exp time.Time) {
	const overhead = int(unsafe.Sizeof(signedToken{})) + 32 + 16 // entry, key, map slot
	tc.c.Put(c.fingerprint(), &signedToken{token: token, exp: exp}, overhead+len(token))
}
