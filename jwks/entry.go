package jwks

import (
	"strings"
	"time"
	"unsafe"

	"github.com/idgate/idgate/identity"
)

// cacheEntry is a verified token in the compact form the cache keeps: what
// the token says that differs from token to token, in one string, and the
// rest (issuer, user claim, a configured audience) taken from the issuer
// that verified it. A full identity.Identity is ~0.4 KB of mostly empty
// fields and one allocation per string; this is about a third of that.
type cacheEntry struct {
	is  *issuer
	ks  *keySet
	kid string // the verifying key's own kid string: shared, not per token
	// exp and iat in Unix nanoseconds (not time.Time: 24 bytes each);
	// packable leaves out times that do not fit.
	expNano, iatNano int64
	// strs holds the profile fields (see the field* order), then the
	// extra user claim, then the groups, end to end; ends[i] is where field
	// i ends. groups point into strs; aud is the issuer's shared slice for
	// a configured audience (internAudience), its own otherwise.
	strs string
	ends [fieldCount]uint16
	// ev and flags fill the two bytes after ends: the struct is 112 bytes,
	// a size class below what it would be with them last.
	ev     identity.Verified
	flags  uint8
	aud    *[]string
	groups []string
}

// Order of the per-token strings in cacheEntry.strs.
const (
	fieldSub = iota
	fieldEmail
	fieldName
	fieldGiven
	fieldFamily
	fieldPreferred
	fieldExtra // the value of a non-standard user claim
	fieldCount
)

const (
	flagOverage = 1 << iota // identity.GroupsOverage
	flagExtra               // Extra holds the user claim (even when "")
	flagHasIat              // the token had iat
)

// maxEntryStrings bounds the strings of one entry so that ends fit 16
// bits; only a token over the default tokens.max_token_bytes can exceed it.
const maxEntryStrings = 1<<16 - 1

// newEntry packs a verified identity (from toIdentity) for the cache, or
// returns nil when its strings are too long to pack (it is then not cached).
func newEntry(id *identity.Identity, is *issuer, ks *keySet) *cacheEntry {
	if !packable(id, is) {
		return nil
	}
	e := &cacheEntry{is: is, ks: ks, kid: id.KeyID, ev: id.EmailVerified, aud: is.internAudience(id.Audience),
		expNano: id.ExpiresAt.UnixNano()}
	if id.GroupsOverage {
		e.flags |= flagOverage
	}
	if !id.IssuedAt.IsZero() {
		e.flags |= flagHasIat
		e.iatNano = id.IssuedAt.UnixNano()
	}
	extra, hasExtra := id.Extra[is.cfg.UserClaim]
	if hasExtra {
		e.flags |= flagExtra
	}
	fields := [fieldCount]string{id.Subject, id.Email, id.Name, id.GivenName, id.FamilyName,
		id.PreferredUsername, extra}
	n := 0
	for _, s := range fields {
		n += len(s)
	}
	for _, g := range id.Groups {
		n += len(g)
	}
	if n > maxEntryStrings {
		return nil
	}
	var b strings.Builder
	b.Grow(n)
	for i, s := range fields {
		b.WriteString(s)
		e.ends[i] = uint16(b.Len())
	}
	for _, g := range id.Groups {
		b.WriteString(g)
	}
	e.strs = b.String()
	if len(id.Groups) > 0 {
		e.groups = make([]string, len(id.Groups))
		off := int(e.ends[fieldCount-1])
		for i, g := range id.Groups {
			e.groups[i] = e.strs[off : off+len(g)]
			off += len(g)
		}
	}
	return e
}

// exp is the token's exp, as toIdentity made it (time.Unix: local time,
// no monotonic reading).
func (e *cacheEntry) exp() time.Time { return time.Unix(0, e.expNano) }

// packable reports whether identity() can rebuild id exactly: what
// toIdentity sets and nothing else (a field added there must be added
// here, or the identity is simply not cached), and times that Unix
// nanoseconds hold (years 1678 to 2262; exp is required, so never zero).
func packable(id *identity.Identity, is *issuer) bool {
	_, extra := id.Extra[is.cfg.UserClaim]
	return id.Issuer == is.cfg.Issuer && id.UserClaim == is.cfg.UserClaim && id.Source == identity.SourceBearer &&
		id.Degraded == "" && id.EmailRefused == "" && (id.Extra == nil || extra && len(id.Extra) == 1) &&
		inNanoRange(id.ExpiresAt) && (id.IssuedAt.IsZero() || inNanoRange(id.IssuedAt))
}

// inNanoRange reports whether t survives a round trip through UnixNano.
func inNanoRange(t time.Time) bool { return t.Equal(time.Unix(0, t.UnixNano())) }

func (e *cacheEntry) field(i int) string {
	start := uint16(0)
	if i > 0 {
		start = e.ends[i-1]
	}
	return e.strs[start:e.ends[i]]
}

// identity rebuilds the Identity newEntry packed. Its slices are shared
// with the entry and have no spare capacity, so an append copies them;
// Extra is a new map each time.
func (e *cacheEntry) identity() identity.Identity {
	id := identity.Identity{
		Issuer:            e.is.cfg.Issuer,
		Subject:           e.field(fieldSub),
		Audience:          e.audience(),
		Email:             e.field(fieldEmail),
		EmailVerified:     e.ev,
		Name:              e.field(fieldName),
		GivenName:         e.field(fieldGiven),
		FamilyName:        e.field(fieldFamily),
		PreferredUsername: e.field(fieldPreferred),
		Groups:            e.groups,
		UserClaim:         e.is.cfg.UserClaim,
		ExpiresAt:         e.exp(),
		KeyID:             e.kid,
		Source:            identity.SourceBearer,
		GroupsOverage:     e.flags&flagOverage != 0,
	}
	if e.flags&flagHasIat != 0 {
		id.IssuedAt = time.Unix(0, e.iatNano)
	}
	if e.flags&flagExtra != 0 {
		id.Extra = map[string]string{e.is.cfg.UserClaim: e.field(fieldExtra)}
	}
	return id
}

// size estimates the memory an entry holds: the struct, the map slot, the
// strings and the groups' slice; a configured audience is shared.
func (e *cacheEntry) size() int {
	n := int(unsafe.Sizeof(*e)) + 32 + 16 + len(e.strs) + 16*len(e.groups)
	if e.aud != nil && !e.is.sharedAudience(e.aud) {
		n += 24
		for _, a := range *e.aud {
			n += 16 + len(a)
		}
	}
	return n
}

// audience is the token's aud (nil when it had none).
func (e *cacheEntry) audience() []string {
	if e.aud == nil {
		return nil
	}
	return *e.aud
}
