package outputs

import (
	"strconv"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/jsonstr"
)

// The signed headers' JSON is written by these appenders, not by
// encoding/json: a kept signature is only valid for the exact bytes it
// signed, so a token rebuilt on a cache hit must serialise its claims the
// same way every time, and the warm Check should not pay reflection for
// it. The output is the same as json.Marshal's (FuzzClaimsJSON holds them
// to it), HTML escaping and invalid UTF-8 included.

// appendJSONString appends s as a JSON string the way encoding/json writes
// it: quotes, backslashes, control characters, '<', '>', '&', U+2028 and
// U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	return jsonstr.Append(dst, s, jsonstr.Marshal)
}

// The member writers below append `,"name":value` (the first member of an
// object is written with '{' for the comma). They are plain functions over
// the slice, so a caller's stack buffer stays on the stack.

// appendKey appends sep (',' or '{') and "name":.
func appendKey(dst []byte, sep byte, name string) []byte {
	dst = append(dst, sep, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

func appendStr(dst []byte, sep byte, name, v string) []byte {
	return appendJSONString(appendKey(dst, sep, name), v)
}

// appendStrOmit is appendStr for an `omitempty` member.
func appendStrOmit(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	return appendStr(dst, ',', name, v)
}

func appendInt(dst []byte, name string, v int64) []byte {
	return strconv.AppendInt(appendKey(dst, ',', name), v, 10)
}

// appendVerified writes an `omitempty` identity.Verified as its
// MarshalJSON does.
func appendVerified(dst []byte, name string, v identity.Verified) []byte {
	switch v {
	case identity.VerifiedTrue:
		return append(appendKey(dst, ',', name), "true"...)
	case identity.VerifiedFalse:
		return append(appendKey(dst, ',', name), "false"...)
	}
	return dst
}

// appendStrsOmit writes an `omitempty` []string.
func appendStrsOmit(dst []byte, name string, vs []string) []byte {
	if len(vs) == 0 {
		return dst
	}
	dst = appendKey(dst, ',', name)
	for i, v := range vs {
		sep := byte(',')
		if i == 0 {
			sep = '['
		}
		dst = appendJSONString(append(dst, sep), v)
	}
	return append(dst, ']')
}

// appendJSON writes the payload of x-flyte-identity: c, signed at iat and
// expiring at exp, as json.Marshal writes the test's flytePayload.
func (c *flyteClaims) appendJSON(dst []byte, iat, exp int64) []byte {
	dst = appendStr(dst, '{', "iss", c.Issuer)
	dst = appendStrOmit(dst, "aud", c.Audience)
	dst = appendStr(dst, ',', "sub", c.Subject)
	dst = appendStrOmit(dst, "email", c.Email)
	dst = appendVerified(dst, "email_verified", c.EmailVerified)
	dst = appendStrOmit(dst, "given_name", c.GivenName)
	dst = appendStrOmit(dst, "family_name", c.FamilyName)
	dst = appendStrOmit(dst, "name", c.Name)
	dst = appendStrOmit(dst, "preferred_username", c.PreferredUsername)
	dst = appendStrsOmit(dst, "groups", c.Groups)
	dst = appendStr(dst, ',', "idp", c.IdP)
	dst = appendInt(dst, "iat", iat)
	dst = appendInt(dst, "exp", exp)
	return append(dst, '}')
}

// appendALBJSON writes the payload of x-amzn-oidc-data for c, expiring at
// exp, as json.Marshal writes the test's albClaims.
func appendALBJSON(dst []byte, c *flyteClaims, exp int64) []byte {
	dst = appendStr(dst, '{', "sub", c.Subject)
	dst = appendStrOmit(dst, "email", c.Email)
	dst = appendVerified(dst, "email_verified", c.EmailVerified)
	dst = appendStrOmit(dst, "name", c.Name)
	dst = appendStrOmit(dst, "given_name", c.GivenName)
	dst = appendStrOmit(dst, "family_name", c.FamilyName)
	dst = appendStrOmit(dst, "preferred_username", c.PreferredUsername)
	dst = appendStrsOmit(dst, "groups", c.Groups)
	dst = appendInt(dst, "exp", exp)
	dst = appendStr(dst, ',', "iss", c.IdP)
	return append(dst, '}')
}
