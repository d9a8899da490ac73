package userinfo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/idgate/idgate/identity"
)

// Entry is what the cache holds for one issuer and subject: a profile, or a
// remembered failure.
type Entry struct {
	// Profile is the sanitised userinfo response; empty when Negative.
	Profile identity.Profile
	// Negative marks a failed lookup remembered for NegativeTTL.
	Negative bool
	// Reason is the degraded reason of a negative entry.
	Reason string
	// Expires is when the entry stops being used, whatever the cache says.
	Expires time.Time
}

// entryVersion is the first byte of every encoded Entry. A value with
// another first byte is a miss and gets overwritten. Version 2 keeps
// email_verified's three states; version 1 left a false out, which would
// now read as absent, so its entries are misses.
const entryVersion byte = 2

// wireEntry is the JSON after the version byte.
type wireEntry struct {
	Profile  *identity.Profile `json:"p,omitempty"`
	Negative bool              `json:"n,omitempty"`
	Reason   string            `json:"r,omitempty"`
	Expires  int64             `json:"e"` // Unix milliseconds
}

// cacheKey names an issuer's subject in the cache. Hashing keeps arbitrary
// subjects (spaces, newlines, any length) safe as Redis keys; the issuer's
// length prefix keeps the issuer/subject boundary unambiguous even if an
// issuer contained NUL.
func cacheKey(issuer, subject string) string {
	h := sha256.Sum256([]byte(strconv.Itoa(len(issuer)) + ":" + issuer + "\x00" + subject))
	return "userinfo:" + hex.EncodeToString(h[:])
}

// encode serialises e as the version byte followed by JSON.
func encode(e Entry) ([]byte, error) {
	w := wireEntry{Negative: e.Negative, Reason: e.Reason, Expires: e.Expires.UnixMilli()}
	if !e.Negative {
		p := e.Profile
		w.Profile = &p
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("userinfo: encode entry: %w", err)
	}
	return append([]byte{entryVersion}, b...), nil
}

// decode parses a cached value. The cache is shared and not trusted: any
// value that encode could not have produced is an error.
func decode(b []byte) (Entry, error) {
	if len(b) == 0 || b[0] != entryVersion {
		return Entry{}, errors.New("userinfo: decode entry: unknown version")
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	dec.DisallowUnknownFields()
	var w wireEntry
	if err := dec.Decode(&w); err != nil {
		return Entry{}, fmt.Errorf("userinfo: decode entry: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("userinfo: decode entry: trailing data")
	}
	if w.Expires <= 0 {
		return Entry{}, errors.New("userinfo: decode entry: no expiry")
	}
	e := Entry{Negative: w.Negative, Reason: w.Reason, Expires: time.UnixMilli(w.Expires)}
	switch {
	case w.Negative:
		if w.Profile != nil || !validReason(w.Reason) {
			return Entry{}, errors.New("userinfo: decode entry: bad negative entry")
		}
	case w.Profile == nil || w.Profile.Subject == "" || w.Reason != "":
		return Entry{}, errors.New("userinfo: decode entry: bad profile entry")
	default:
		e.Profile = *w.Profile
		e.Profile.Groups = identity.NormalizeGroups(e.Profile.Groups)
		if !profileSafe(&e.Profile) {
			return Entry{}, errors.New("userinfo: decode entry: unsafe profile value")
		}
	}
	return e, nil
}

// validReason accepts the degraded reasons this package produces: short
// lower-case words joined by underscores.
func validReason(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// unsafeChars may never reach a header value.
const unsafeChars = "\r\n\x00"

// profileSafe reports whether no value of p contains CR, LF or NUL.
func profileSafe(p *identity.Profile) bool {
	for _, v := range []string{p.Subject, p.Email, p.Name, p.GivenName, p.FamilyName, p.PreferredUsername} {
		if strings.ContainsAny(v, unsafeChars) {
			return false
		}
	}
	for _, g := range p.Groups {
		if strings.ContainsAny(g, unsafeChars) {
			return false
		}
	}
	return true
}
