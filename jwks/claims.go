package jwks

import (
	"encoding/json"
	"math"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/claimjson"
)

// header is the part of the JOSE header Verify reads. Embedded keys and key
// URLs (jwk, jku, x5u, x5c) are deliberately not even decoded.
type header struct {
	Alg  string
	Kid  string
	Crit []byte // raw; a crit member, whatever its value, is refused
}

// parseHeader reads the JOSE header by exact member names.
func parseHeader(b []byte) (header, error) {
	var h header
	err := claimjson.Members(b, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "alg":
			h.Alg, err = claimjson.String(v)
		case "kid":
			h.Kid, err = claimjson.String(v)
		case "crit":
			h.Crit = v // even null: no extension is understood
		}
		return err
	})
	return h, err
}

// claims is the payload, decoded once by exact (case-sensitive) claim
// names; a claim named twice makes the token malformed. Groups and
// _claim_names are kept raw because only the issuer's mapping knows which
// claim holds the groups. The raw slices alias the payload.
type claims struct {
	Iss               string
	Sub               string
	Aud               audience
	Exp               *numericDate
	Nbf               *numericDate
	Iat               *numericDate
	Email             string
	EmailVerified     identity.Verified
	Name              string
	GivenName         string
	FamilyName        string
	PreferredUsername string
	Groups            []byte
	ClaimNames        []byte
	HasGroups         bool
	Nonce             string
	Azp               string
}

// parseClaims reads the payload. A claim of the wrong type is an error, as
// encoding/json's would be; email_verified and hasgroups never are.
func parseClaims(b []byte, c *claims) error {
	return claimjson.Members(b, func(name, v []byte) error {
		switch string(name) {
		case "iss":
			return str(&c.Iss, v)
		case "sub":
			return str(&c.Sub, v)
		case "aud":
			return c.Aud.parse(v)
		case "exp":
			return date(&c.Exp, v)
		case "nbf":
			return date(&c.Nbf, v)
		case "iat":
			return date(&c.Iat, v)
		case "email":
			return str(&c.Email, v)
		case "email_verified":
			c.EmailVerified = identity.ParseVerified(v)
		case "name":
			return str(&c.Name, v)
		case "given_name":
			return str(&c.GivenName, v)
		case "family_name":
			return str(&c.FamilyName, v)
		case "preferred_username":
			return str(&c.PreferredUsername, v)
		case "groups":
			c.Groups = v
		case "_claim_names":
			if !claimjson.IsNull(v) && v[0] != '{' {
				return claimjson.ErrMalformed
			}
			c.ClaimNames = v
		case "hasgroups":
			c.HasGroups = identity.ParseVerified(v) == identity.VerifiedTrue
		case "nonce":
			return str(&c.Nonce, v)
		case "azp":
			return str(&c.Azp, v)
		}
		return nil
	})
}

func str(dst *string, v []byte) (err error) {
	*dst, err = claimjson.String(v)
	return err
}

// date reads a NumericDate; null leaves it absent.
func date(dst **numericDate, v []byte) error {
	if claimjson.IsNull(v) {
		*dst = nil
		return nil
	}
	f, err := claimjson.Number(v)
	if err != nil {
		return err
	}
	d := numericDate(f)
	*dst = &d
	return nil
}

// audience is `aud`: one string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) parse(b []byte) error {
	switch {
	case claimjson.IsNull(b):
		*a = nil
		return nil
	case b[0] == '"':
		s, err := claimjson.String(b)
		*a = audience{s}
		return err
	case b[0] != '[':
		return claimjson.ErrMalformed
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// numericDate is seconds since the epoch; a string is a type error.
type numericDate float64

func (d numericDate) time() time.Time {
	f := float64(d)
	if f > math.MaxInt64/2 || f < math.MinInt64/2 {
		f = math.Copysign(math.MaxInt64/2, f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// standardClaims are the claims Identity has fields for.
var standardClaims = map[string]bool{
	"sub": true, "iss": true, "email": true, "name": true, "given_name": true,
	"family_name": true, "preferred_username": true,
}

// toIdentity maps verified claims to an Identity using the issuer's mapping.
// payload is reread only when the mapping names non-standard claims.
func (c *claims) toIdentity(is *issuer, payload []byte, kid string) (identity.Identity, error) {
	id := identity.Identity{
		Issuer:            c.Iss,
		Subject:           c.Sub,
		Audience:          clip(c.Aud),
		Email:             c.Email,
		EmailVerified:     c.EmailVerified,
		Name:              c.Name,
		GivenName:         c.GivenName,
		FamilyName:        c.FamilyName,
		PreferredUsername: c.PreferredUsername,
		UserClaim:         is.cfg.UserClaim,
		ExpiresAt:         c.Exp.time(),
		KeyID:             kid,
		Source:            identity.SourceBearer,
		GroupsOverage:     c.HasGroups,
	}
	if c.Iat != nil {
		id.IssuedAt = c.Iat.time()
	}
	if over, err := claimjson.Has(c.ClaimNames, is.cfg.GroupsClaim); err != nil {
		return identity.Identity{}, ErrMalformed
	} else if over {
		id.GroupsOverage = true
	}
	groupsRaw := c.Groups
	if is.cfg.GroupsClaim != "groups" || is.extraUserClaim {
		groupsRaw = nil
		err := claimjson.Members(payload, func(name, v []byte) error {
			if string(name) == is.cfg.GroupsClaim {
				groupsRaw = v
			}
			if is.extraUserClaim && string(name) == is.cfg.UserClaim && v[0] == '"' {
				if s, err := claimjson.String(v); err == nil {
					id.Extra = map[string]string{is.cfg.UserClaim: s}
				}
			}
			return nil
		})
		if err != nil {
			return identity.Identity{}, ErrMalformed
		}
	}
	if len(groupsRaw) > 0 && !claimjson.IsNull(groupsRaw) {
		var g any
		if err := json.Unmarshal(groupsRaw, &g); err != nil {
			return identity.Identity{}, ErrMalformed
		}
		id.Groups = clip(identity.ParseGroups(g))
	}
	return id, nil
}

// clip caps a slice's capacity at its length so that a caller appending to
// a cached identity's slice never writes into the cache's array.
func clip[S ~[]E, E any](s S) []E {
	if s == nil {
		return nil
	}
	return s[:len(s):len(s)]
}
