package outputs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/idgate/idgate/identity"
)

// HeaderOutput is a plain header an operator declares: the value of one
// claim, encoded as kubeflow-userid is (lists joined with ",").
type HeaderOutput struct {
	// Name is the header name, an HTTP token; stored lower-case.
	Name string
	// Claim names the claim it carries, exactly (case-sensitive): one of
	// [DeclarableClaims], or the issuer's user_claim. A claim the identity
	// lacks leaves the header out; "email" is the email only while it may
	// identify the user (not one the issuer's email policy refused).
	Claim string
}

// DeclarableClaims are the claims a [HeaderOutput] may name besides an
// issuer's user_claim: the ones an identity carries from its verified token
// merged with the userinfo profile. "groups" is the issuer's groups claim.
var DeclarableClaims = []string{"sub", "iss", "email", "name", "given_name", "family_name", "preferred_username", "groups"}

// kind says how an output's value is made from an identity.
type kind uint8

const (
	kindUserID         kind = iota // prefix + the issuer's user claim
	kindGroups                     // the groups, joined with ","
	kindFlyte                      // the signed x-flyte-identity JWS
	kindALBIdentity                // x-amzn-oidc-identity: the subject
	kindALBAccessToken             // x-amzn-oidc-accesstoken: the caller's token
	kindALBData                    // x-amzn-oidc-data: the signed claims
	kindClaim                      // a declared header: one claim
)

// output is one header the Renderer writes. Built-in and declared headers
// are all entries of one table, in the order they are written: a new
// output is a new entry (and, for a new kind of value, a case of value).
type output struct {
	name  string
	kind  kind
	claim string // kindClaim only
}

// table lists the outputs cfg enables: the built-in ones, then the
// declared. cfg has no Problems: every name is valid and written once.
func table(cfg *Config) []output {
	builtins := []struct {
		on bool
		o  output
	}{
		{true, output{name: cfg.UserIDHeader, kind: kindUserID}},
		{cfg.GroupsHeader != "", output{name: cfg.GroupsHeader, kind: kindGroups}},
		{cfg.FlyteHeader != "", output{name: cfg.FlyteHeader, kind: kindFlyte}},
		{cfg.ALB.Enabled, output{name: ALBIdentity, kind: kindALBIdentity}},
		{cfg.ALB.Enabled, output{name: ALBAccessToken, kind: kindALBAccessToken}},
		{cfg.ALB.Enabled, output{name: ALBData, kind: kindALBData}},
	}
	var outs []output
	for _, b := range builtins {
		if b.on {
			outs = append(outs, b.o)
		}
	}
	for _, h := range cfg.Headers {
		outs = append(outs, output{name: strings.ToLower(h.Name), kind: kindClaim, claim: h.Claim})
	}
	return outs
}

// errSkip leaves an output out of the request (a claim the identity lacks).
var errSkip = errors.New("outputs: no value")

// value is o's value for id, errSkip to leave the header out.
func (r *Renderer) value(o *output, id *identity.Identity, accessToken string) (string, error) {
	switch o.kind {
	case kindUserID:
		// No user claim (a token with only sub whose userinfo failed): no
		// user id header at all, never a guess such as sub for an email.
		return r.claimValue(id.UserID(), r.prefix(id.Issuer))
	case kindGroups:
		return listValue(id.Groups)
	case kindFlyte:
		return r.flyteToken(id)
	case kindALBIdentity:
		if sub, ok := headerValue(id.Subject); ok && sub != "" {
			return sub, nil
		}
		return "", errSkip
	case kindALBAccessToken:
		if tok, ok := headerValue(accessToken); ok && tok != "" {
			return tok, nil
		}
		return "", errSkip
	case kindALBData:
		return r.albToken(id)
	case kindClaim:
		switch o.claim {
		case "groups":
			return listValue(id.Groups)
		case "email":
			return r.claimValue(id.TrustedEmail(), "")
		}
		return r.claimValue(id.Claim(o.claim), "")
	}
	return "", fmt.Errorf("outputs: unknown output kind %d", o.kind)
}

// claimValue is prefix + the encoded claim v; errSkip when v is empty, and
// ErrUnsafeUserID when v holds a control character (the request is denied
// rather than sent on without the identity it claims).
func (r *Renderer) claimValue(v, prefix string) (string, error) {
	if v == "" {
		return "", errSkip
	}
	enc, ok := headerValue(v)
	if !ok {
		return "", ErrUnsafeUserID
	}
	return prefix + enc, nil
}

// listValue joins groups; errSkip when none can travel.
func listValue(groups []string) (string, error) {
	if len(groups) == 0 {
		return "", errSkip
	}
	if g, _ := groupsValue(groups); g != "" {
		return g, nil
	}
	return "", errSkip
}
