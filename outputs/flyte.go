package outputs

import (
	"encoding/binary"
	"hash/maphash"
	"time"
	"unsafe"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/cache"
	"github.com/idgate/idgate/signing"
)

// flyteClaims is the identity part of the signed headers: for
// x-flyte-identity, the OIDC claims Flyte's runs service already decodes
// from its claims-JWT header (ALB's x-amzn-oidc-data by default), plus
// iss/aud so it can be verified; x-amzn-oidc-data takes the userinfo
// claims from it. The times are the token's own (appendJSON's iat and
// exp). The JSON is written by appendJSON and appendALBJSON.
type flyteClaims struct {
	Issuer   string
	Audience string
	Subject  string
	Email    string
	// EmailVerified is the IdP's email_verified (absent: left out), false
	// for an email idgate refused, which is then left out itself.
	EmailVerified     identity.Verified
	GivenName         string
	FamilyName        string
	Name              string
	PreferredUsername string
	Groups            []string
	IdP               string
}

// fingerprint keys the signature cache on everything signed but the
// times: every claim (email_verified included), length-prefixed, under a
// per-cache random seed. 64 bits are enough because the cache keeps only
// a signature and its times, never claims: a token is always rebuilt from
// the current identity, so two identities that collided would share a
// signature that fails verification, never each other's claims.
func (c *flyteClaims) fingerprint(seed maphash.Seed) uint64 {
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
	return maphash.Bytes(seed, b)
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// signature is what the cache keeps of a signed token: the raw ES256
// signature and the times it signed. With the claims of the identity it
// was made for, it rebuilds the token byte for byte. It holds no pointer,
// so the cache's table is never scanned by the GC, and its size does not
// grow with the identity (a token with hundreds of groups is several KB;
// this is 80 bytes).
type signature struct {
	sig      [signing.SignatureSize]byte
	iat, exp int64
}

// signatureBytes is what one cached signature costs: the value, its key
// and its size in the table's slot (the Cache's byte bound counts it).
const signatureBytes = int(unsafe.Sizeof(signature{})) + 8 + 8

// sigCache keeps one signature per identity and kind of signed header, so
// a busy user costs a hash, a lookup and the encoding of the token, not an
// ECDSA signature. It is bounded in entries (and so in bytes: entries are
// all the same size); expired entries are evicted first.
type sigCache struct {
	seed maphash.Seed
	c    *cache.Cache[uint64, signature]
}

func newSigCache(max int, now func() time.Time) *sigCache {
	return &sigCache{seed: maphash.MakeSeed(), c: cache.New[uint64](
		cache.Config{MaxEntries: max, MaxBytes: int64(max) * int64(signatureBytes)},
		func(e signature) bool { return now().Unix() >= e.exp },
	)}
}

// get returns the signature kept for c while it has more than margin left,
// and only when its exp is not past notAfter (the source token's exp; zero:
// no bound): the same identity may come back with a token that expires
// sooner than the one the kept signature was made for.
func (sc *sigCache) get(c *flyteClaims, now, notAfter time.Time, margin time.Duration) (signature, bool) {
	k := c.fingerprint(sc.seed)
	e, ok := sc.c.Get(k)
	if !ok {
		return signature{}, false
	}
	if !notAfter.IsZero() && e.exp > notAfter.Unix() {
		return signature{}, false // kept: a later token of the same user may use it
	}
	if time.Unix(e.exp, 0).Sub(now) <= margin {
		sc.c.DeleteIf(k, func(cur signature) bool { return cur == e })
		return signature{}, false
	}
	return e, true
}

func (sc *sigCache) put(c *flyteClaims, e signature) {
	sc.c.Put(c.fingerprint(sc.seed), e, signatureBytes)
}
