package outputs

import (
	"strconv"
	"unicode/utf8"

	"github.com/idgate/idgate/identity"
)

// The signed headers' JSON is written by these appenders, not by
// encoding/json: a kept signature is only valid for the exact bytes it
// signed, so a token rebuilt on a cache hit must serialise its claims the
// same way every time, and the warm Check should not pay reflection for
// it. The output is the same as json.Marshal's (FuzzClaimsJSON holds them
// to it), HTML escaping and invalid UTF-8 included.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json writes
// it: quotes, backslashes, control characters, '<', '>', '&', U+2028 and
// U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonObject writes the members of one JSON object in order.
type jsonObject struct {
	b     []byte
	empty bool
}

func openObject(dst []byte) jsonObject { return jsonObject{b: append(dst, '{'), empty: true} }

func (o *jsonObject) name(n string) {
	if !o.empty {
		o.b = append(o.b, ',')
	}
	o.empty = false
	o.b = append(o.b, '"')
	o.b = append(o.b, n...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(n, v string) {
	o.name(n)
	o.b = appendJSONString(o.b, v)
}

// strOmit is str for an `omitempty` member.
func (o *jsonObject) strOmit(n, v string) {
	if v != "" {
		o.str(n, v)
	}
}

func (o *jsonObject) int(n string, v int64) {
	o.name(n)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// verified writes an `omitempty` identity.Verified as its MarshalJSON does.
func (o *jsonObject) verified(n string, v identity.Verified) {
	switch v {
	case identity.VerifiedTrue:
		o.name(n)
		o.b = append(o.b, "true"...)
	case identity.VerifiedFalse:
		o.name(n)
		o.b = append(o.b, "false"...)
	}
}

// strsOmit writes an `omitempty` []string.
func (o *jsonObject) strsOmit(n string, vs []string) {
	if len(vs) == 0 {
		return
	}
	o.name(n)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, v)
	}
	o.b = append(o.b, ']')
}

func (o *jsonObject) close() []byte { return append(o.b, '}') }

// appendJSON writes c as json.Marshal writes flyteClaims.
func (c *flyteClaims) appendJSON(dst []byte) []byte {
	o := openObject(dst)
	o.str("iss", c.Issuer)
	o.strOmit("aud", c.Audience)
	o.str("sub", c.Subject)
	o.strOmit("email", c.Email)
	o.verified("email_verified", c.EmailVerified)
	o.strOmit("given_name", c.GivenName)
	o.strOmit("family_name", c.FamilyName)
	o.strOmit("name", c.Name)
	o.strOmit("preferred_username", c.PreferredUsername)
	o.strsOmit("groups", c.Groups)
	o.str("idp", c.IdP)
	o.int("iat", c.IssuedAt)
	o.int("exp", c.Expiry)
	return o.close()
}

// appendALBJSON writes the payload of x-amzn-oidc-data for c, expiring at
// exp, as json.Marshal writes albClaims.
func appendALBJSON(dst []byte, c *flyteClaims, exp int64) []byte {
	o := openObject(dst)
	o.str("sub", c.Subject)
	o.strOmit("email", c.Email)
	o.verified("email_verified", c.EmailVerified)
	o.strOmit("name", c.Name)
	o.strOmit("given_name", c.GivenName)
	o.strOmit("family_name", c.FamilyName)
	o.strOmit("preferred_username", c.PreferredUsername)
	o.strsOmit("groups", c.Groups)
	o.int("exp", exp)
	o.str("iss", c.IdP)
	return o.close()
}
