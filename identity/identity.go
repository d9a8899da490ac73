package identity

import (
	"sort"
	"time"
)

// Source says how a caller proved who they are.
type Source string

const (
	// SourceBearer is a verified JWT from an Authorization-style header.
	SourceBearer Source = "bearer"
	// SourceSession is a server-side login session (browser cookie).
	SourceSession Source = "session"
	// SourceForwarded is an identity a trusted forwarder (an mTLS peer
	// named in the configuration) passed on in identity headers.
	SourceForwarded Source = "forwarded"
)

// Identity is a caller whose token idgate verified. Fields are filled from the
// verified token first; enrichment (userinfo) only fills fields still empty.
type Identity struct {
	// Issuer is the verified `iss` of the token.
	Issuer string
	// Subject is the verified `sub`.
	Subject string
	// Audience is the verified `aud`.
	Audience []string
	// Email, Name, GivenName, FamilyName and PreferredUsername are the
	// standard OIDC profile claims (OIDC Core 5.1).
	Email string
	// EmailVerified is the IdP's email_verified claim: true, false or
	// absent. Absent and false are different: an IdP that lets users type
	// any address says false, and that address identifies no one.
	EmailVerified     Verified
	Name              string
	GivenName         string
	FamilyName        string
	PreferredUsername string
	// Groups is de-duplicated and sorted.
	Groups []string
	// UserClaim names the claim that becomes the user id (kubeflow-userid);
	// it is the issuer's configured user_claim.
	UserClaim string
	// Extra holds string claims the issuer's mapping asked for that are not
	// standard fields (for example a custom user_claim).
	Extra map[string]string
	// IssuedAt and ExpiresAt are the token's `iat` and `exp`.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// KeyID is the `kid` that verified the token.
	KeyID string
	// Source says whether the identity came from a bearer token or a session.
	Source Source
	// GroupsOverage is set when the IdP said there were too many groups to
	// put in the token (Entra ID `_claim_names`/`hasgroups`).
	GroupsOverage bool
	// Degraded names why enrichment could not complete ("" when it did or was
	// not attempted); the request still proceeds with the token's claims.
	Degraded string
	// EmailRefused is why Email identifies no one under the issuer's
	// EmailPolicy ("" when it does, or was not judged): see EmailPolicy.Judge.
	// A refused email is no user id and matches no email-domain rule.
	EmailRefused string
}

// Claim returns the string value of a claim by its JWT name, looking at the
// standard fields first and Extra after. It returns "" for an absent claim.
func (id *Identity) Claim(name string) string {
	switch name {
	case "sub":
		return id.Subject
	case "iss":
		return id.Issuer
	case "email":
		return id.Email
	case "name":
		return id.Name
	case "given_name":
		return id.GivenName
	case "family_name":
		return id.FamilyName
	case "preferred_username":
		return id.PreferredUsername
	}
	return id.Extra[name]
}

// UserID is the value of the configured user claim, or "" when the token
// and its profile lack it, or when it is a refused email.
func (id *Identity) UserID() string {
	if id.UserIsEmail() {
		if id.EmailRefused != "" {
			return ""
		}
		return id.Email
	}
	return id.Claim(id.UserClaim)
}

// UserIsEmail reports whether the user id is the email claim.
func (id *Identity) UserIsEmail() bool {
	return id.UserClaim == "" || id.UserClaim == "email"
}

// TrustedEmail is Email when it may identify the user, else "".
func (id *Identity) TrustedEmail() string {
	if id.EmailRefused != "" {
		return ""
	}
	return id.Email
}

// Profile is what userinfo (or a cache of it) knows about a subject.
type Profile struct {
	Subject           string   `json:"sub"`
	Email             string   `json:"email,omitempty"`
	EmailVerified     Verified `json:"email_verified,omitempty"`
	Name              string   `json:"name,omitempty"`
	GivenName         string   `json:"given_name,omitempty"`
	FamilyName        string   `json:"family_name,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Groups            []string `json:"groups,omitempty"`
}

// Merge fills the identity's empty fields from p. Claims already present in
// the verified token win. It does nothing when p is for another subject.
func (id *Identity) Merge(p *Profile) {
	if p == nil || p.Subject != id.Subject {
		return
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	if id.Email == "" && p.Email != "" {
		id.Email = p.Email
		id.EmailVerified = p.EmailVerified
	}
	fill(&id.Name, p.Name)
	fill(&id.GivenName, p.GivenName)
	fill(&id.FamilyName, p.FamilyName)
	fill(&id.PreferredUsername, p.PreferredUsername)
	if len(id.Groups) == 0 && len(p.Groups) > 0 {
		id.Groups = NormalizeGroups(p.Groups)
	}
}

// ParseGroups turns a groups claim into a sorted, de-duplicated list. The
// claim may be a JSON array of strings, or one string, which is one group:
// splitting "not admins" on white space would make the group "admins" out
// of nothing. Anything else yields nil.
func ParseGroups(v any) []string {
	switch g := v.(type) {
	case []string:
		return NormalizeGroups(g)
	case []any:
		out := make([]string, 0, len(g))
		for _, e := range g {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return NormalizeGroups(out)
	case string:
		return NormalizeGroups([]string{g})
	}
	return nil
}

// NormalizeGroups drops empty names, de-duplicates and sorts groups. It
// never trims: " admins" is another group than "admins", and trimming would
// let an IdP user who may name a group become a member of the other one. It
// returns a new slice and leaves the argument untouched.
func NormalizeGroups(groups []string) []string {
	if len(groups) == 0 {
		return nil
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if g != "" {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	j := 0
	for i, g := range out {
		if i > 0 && g == out[j-1] {
			continue
		}
		out[j] = g
		j++
	}
	if j == 0 {
		return nil
	}
	return out[:j]
}

// Header is one HTTP header idgate writes (to the upstream request or to a
// denied response). Name is lower case.
type Header struct {
	Name  string
	Value string
}
