package jwks

import (
	"bytes"
	"encoding/json"
	"math"
	"time"

	"github.com/idgate/idgate/identity"
)

// header is the part of the JOSE header Verify reads. Embedded keys and key
// URLs (jwk, jku, x5u, x5c) are deliberately not even decoded.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// claims is the payload, decoded once. Groups is kept raw because only the
// issuer's mapping knows whether it is the groups claim.
type claims struct {
	Iss               string                     `json:"iss"`
	Sub               string                     `json:"sub"`
	Aud               audience                   `json:"aud"`
	Exp               *numericDate               `json:"exp"`
	Nbf               *numericDate               `json:"nbf"`
	Iat               *numericDate               `json:"iat"`
	Email             string                     `json:"email"`
	EmailVerified     flexBool                   `json:"email_verified"`
	Name              string                     `json:"name"`
	GivenName         string                     `json:"given_name"`
	FamilyName        string                     `json:"family_name"`
	PreferredUsername string                     `json:"preferred_username"`
	Groups            json.RawMessage            `json:"groups"`
	ClaimNames        map[string]json.RawMessage `json:"_claim_names"`
	HasGroups         flexBool                   `json:"hasgroups"`
	Nonce             string                     `json:"nonce"`
	Azp               string                     `json:"azp"`
}

// audience is `aud`: one string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
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

// flexBool accepts true and the string "true" (some IdPs send
// email_verified as a string); any other value is false, never an error.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := string(b)
	*f = flexBool(s == "true" || s == `"true"`)
	return nil
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
		EmailVerified:     bool(c.EmailVerified),
		Name:              c.Name,
		GivenName:         c.GivenName,
		FamilyName:        c.FamilyName,
		PreferredUsername: c.PreferredUsername,
		UserClaim:         is.cfg.UserClaim,
		ExpiresAt:         c.Exp.time(),
		KeyID:             kid,
		Source:            identity.SourceBearer,
		GroupsOverage:     bool(c.HasGroups),
	}
	if c.Iat != nil {
		id.IssuedAt = c.Iat.time()
	}
	if _, ok := c.ClaimNames[is.cfg.GroupsClaim]; ok {
		id.GroupsOverage = true
	}
	groupsRaw := c.Groups
	if is.cfg.GroupsClaim != "groups" || is.extraUserClaim {
		var all map[string]json.RawMessage
		if err := json.Unmarshal(payload, &all); err != nil {
			return identity.Identity{}, ErrMalformed
		}
		groupsRaw = all[is.cfg.GroupsClaim]
		if raw := all[is.cfg.UserClaim]; is.extraUserClaim && len(raw) > 0 && raw[0] == '"' {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				id.Extra = map[string]string{is.cfg.UserClaim: s}
			}
		}
	}
	if len(groupsRaw) > 0 && !bytes.Equal(groupsRaw, []byte("null")) {
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
