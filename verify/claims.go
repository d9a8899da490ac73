package verify

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Claims is the identity idgate signed: the claims of x-flyte-identity.
type Claims struct {
	// Issuer is `iss`, the configured Issuer.
	Issuer string
	// Audience is `aud` (a string or an array in the token).
	Audience []string
	// Subject is `sub`, the user at the identity provider.
	Subject string
	// Email is `email`. idgate leaves out an email the IdP marked
	// unverified, so a non-empty Email is one idgate accepted.
	Email string
	// EmailVerified is `email_verified`: nil when absent (the IdP did not
	// say), else what the IdP said.
	EmailVerified *bool
	// Name is `name`.
	Name string
	// GivenName is `given_name`.
	GivenName string
	// FamilyName is `family_name`.
	FamilyName string
	// PreferredUsername is `preferred_username`.
	PreferredUsername string
	// Groups is `groups`.
	Groups []string
	// IdP is `idp`, the issuer of the token idgate verified.
	IdP string
	// IssuedAt is `iat`; zero when absent.
	IssuedAt time.Time
	// NotBefore is `nbf`; zero when absent.
	NotBefore time.Time
	// ExpiresAt is `exp` (required).
	ExpiresAt time.Time
}

// parseClaims reads the claims by exact name; unknown claims are ignored,
// a known claim of the wrong type or a duplicate is refused.
func parseClaims(payload []byte) (*Claims, error) {
	c := &Claims{}
	hasExp := false
	err := members(payload, func(name string, raw []byte) error {
		var err error
		switch name {
		case "iss":
			err = stringValue(raw, &c.Issuer)
		case "aud":
			if len(raw) > 0 && raw[0] == '"' {
				c.Audience = make([]string, 1)
				err = stringValue(raw, &c.Audience[0])
			} else {
				err = stringsValue(raw, &c.Audience)
			}
		case "sub":
			err = stringValue(raw, &c.Subject)
		case "email":
			err = stringValue(raw, &c.Email)
		case "email_verified":
			err = boolValue(raw, &c.EmailVerified)
		case "name":
			err = stringValue(raw, &c.Name)
		case "given_name":
			err = stringValue(raw, &c.GivenName)
		case "family_name":
			err = stringValue(raw, &c.FamilyName)
		case "preferred_username":
			err = stringValue(raw, &c.PreferredUsername)
		case "groups":
			err = stringsValue(raw, &c.Groups)
		case "idp":
			err = stringValue(raw, &c.IdP)
		case "iat":
			err = timeValue(raw, &c.IssuedAt)
		case "nbf":
			err = timeValue(raw, &c.NotBefore)
		case "exp":
			hasExp = true
			err = timeValue(raw, &c.ExpiresAt)
		}
		if err != nil {
			return fmt.Errorf("claim %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !hasExp {
		return nil, fmt.Errorf("%w: exp missing", ErrClaims)
	}
	return c, nil
}

func boolValue(raw []byte, dst **bool) error {
	var b bool
	switch string(raw) {
	case "true":
		b = true
	case "false":
	default:
		return fmt.Errorf("%w: want true or false", ErrMalformed)
	}
	*dst = &b
	return nil
}

// timeValue reads a NumericDate: seconds since the epoch, fractions
// truncated.
func timeValue(raw []byte, dst *time.Time) error {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return fmt.Errorf("%w: want a NumericDate", ErrMalformed)
	}
	*dst = time.Unix(int64(f), 0)
	return nil
}

// check compares the claims with cfg at cfg.Now.
func (c *Claims) check(cfg *Config) error {
	now := cfg.Now()
	switch {
	case c.Issuer != cfg.Issuer:
		return fmt.Errorf("%w: iss %q, want %q", ErrClaims, c.Issuer, cfg.Issuer)
	case !slices.Contains(c.Audience, cfg.Audience):
		return fmt.Errorf("%w: aud %q does not contain %q", ErrClaims, c.Audience, cfg.Audience)
	case !now.Before(c.ExpiresAt.Add(cfg.Leeway)):
		return fmt.Errorf("%w: expired at %s", ErrClaims, c.ExpiresAt.UTC().Format(time.RFC3339))
	case !c.NotBefore.IsZero() && now.Add(cfg.Leeway).Before(c.NotBefore):
		return fmt.Errorf("%w: not valid before %s", ErrClaims, c.NotBefore.UTC().Format(time.RFC3339))
	case !c.IssuedAt.IsZero() && now.Add(cfg.Leeway).Before(c.IssuedAt):
		return fmt.Errorf("%w: issued in the future at %s", ErrClaims, c.IssuedAt.UTC().Format(time.RFC3339))
	case c.Subject == "":
		return fmt.Errorf("%w: sub missing", ErrClaims)
	}
	return nil
}
