package identity

import (
	"bytes"
	"strings"
)

// Verified is a boolean claim that may be absent, such as email_verified.
// The zero value is absent.
type Verified uint8

// Values of Verified.
const (
	VerifiedAbsent Verified = iota
	VerifiedTrue
	VerifiedFalse
)

// ParseVerified reads a raw JSON email_verified value. true and "true" (some
// IdPs, Cognito among them, send a string) are true; null is absent; any
// other value, false and "false" included, is false: a value idgate cannot
// read as a yes is a no.
func ParseVerified(raw []byte) Verified {
	switch string(bytes.TrimSpace(raw)) {
	case "true", `"true"`:
		return VerifiedTrue
	case "", "null":
		return VerifiedAbsent
	}
	return VerifiedFalse
}

// MarshalJSON writes true, false or null (absent).
func (v Verified) MarshalJSON() ([]byte, error) {
	switch v {
	case VerifiedTrue:
		return []byte("true"), nil
	case VerifiedFalse:
		return []byte("false"), nil
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads what MarshalJSON writes, as ParseVerified does. A
// stored false from before Verified existed (a bool) stays false.
func (v *Verified) UnmarshalJSON(b []byte) error {
	*v = ParseVerified(b)
	return nil
}

// Email verification modes of EmailPolicy.Verified.
const (
	// EmailVerifiedIfPresent refuses an email whose email_verified is
	// false, and accepts one without the claim (the Kubernetes apiserver's
	// and oauth2-proxy's rule). The default.
	EmailVerifiedIfPresent = "if_present"
	// EmailVerifiedRequired refuses an email unless email_verified is true.
	EmailVerifiedRequired = "required"
	// EmailVerifiedIgnore accepts an email whatever email_verified says.
	EmailVerifiedIgnore = "ignore"
)

// Reasons EmailPolicy.Judge gives for refusing an email.
const (
	EmailUnverified  = "unverified"     // email_verified false, or absent when required
	EmailOtherDomain = "foreign_domain" // a domain the issuer may not assert
)

// EmailPolicy is an issuer's rule for when its email claim identifies a
// user. The zero value is EmailVerifiedIfPresent with any domain.
type EmailPolicy struct {
	// Verified is "", EmailVerifiedIfPresent, EmailVerifiedRequired or
	// EmailVerifiedIgnore; "" means EmailVerifiedIfPresent.
	Verified string
	// Domains are the email domains the issuer may assert (compared without
	// letter case); an email in another domain identifies no one. Empty:
	// any domain.
	Domains []string
}

// Judge returns why id.Email identifies no one under p, or "" when it
// does (or there is no email). It reads the merged identity, so an email
// that userinfo filled is judged by userinfo's email_verified.
func (p *EmailPolicy) Judge(id *Identity) string {
	if id.Email == "" {
		return ""
	}
	switch {
	case p.Verified == EmailVerifiedIgnore:
	case id.EmailVerified == VerifiedFalse:
		return EmailUnverified
	case id.EmailVerified == VerifiedAbsent && p.Verified == EmailVerifiedRequired:
		return EmailUnverified
	}
	if len(p.Domains) == 0 {
		return ""
	}
	at := strings.LastIndexByte(id.Email, '@')
	if at < 0 {
		return EmailOtherDomain
	}
	domain := id.Email[at+1:]
	for _, d := range p.Domains {
		if strings.EqualFold(d, domain) {
			return ""
		}
	}
	return EmailOtherDomain
}
