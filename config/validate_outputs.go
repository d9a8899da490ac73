package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idgate/idgate/outputs"
)

// reservedHeaders may not be used as output headers: writing them would
// rewrite the request's own credentials or framing.
var reservedHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true,
	"host": true, "content-length": true, "content-type": true,
	"transfer-encoding": true, "connection": true, "te": true,
	"upgrade": true, "keep-alive": true, "trailer": true,
	// forwardauth's answers to the proxy (RemoveHeader, UpstreamCookieHeader):
	// an output of that name would let a claim choose what the proxy removes
	// or which cookies the upstream gets.
	"x-idgate-remove": true, "x-idgate-cookie": true,
}

// albHeaders are written when outputs.alb.enabled is set.
var albHeaders = []string{"x-amzn-oidc-data", "x-amzn-oidc-identity", "x-amzn-oidc-accesstoken"}

// hopByHop are connection-level headers (RFC 9110 7.6.1 and the
// de-facto ones) that a proxy consumes or rewrites; none may be declared.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "trailers": true,
	"transfer-encoding": true, "upgrade": true,
}

// credentialHeaders carry a caller's credentials, which idgate reads; a
// declared header may not overwrite them.
var credentialHeaders = map[string]bool{"authorization": true, "cookie": true, "flyte-authorization": true}

func (o Outputs) validate(p *problems, issuers []Issuer) {
	type header struct{ key, name string }
	written := []header{
		{"outputs.kubeflow.userid_header", o.Kubeflow.UserIDHeader},
		{"outputs.kubeflow.groups_header", o.Kubeflow.GroupsHeader},
		{"outputs.flyte.header", o.Flyte.Header},
	}
	for _, h := range written {
		checkHeaderName(p, h.key, h.name)
	}
	if o.ALB.Enabled {
		for _, name := range albHeaders {
			written = append(written, header{"outputs.alb (" + name + ")", name})
		}
	}
	for i, h := range o.Headers {
		key := fmt.Sprintf("outputs.headers[%d]", i)
		checkHeaderName(p, key+".name", h.Name)
		if n := strings.ToLower(h.Name); hopByHop[n] || credentialHeaders[n] {
			p.addf(key+".name", "header %q is a hop-by-hop or credential header", n)
		}
		// The ALB names are taken even while outputs.alb is off, so
		// enabling it never meets a declared header of the same name.
		if !o.ALB.Enabled && slices.ContainsFunc(albHeaders, func(a string) bool { return sameHeader(a, h.Name) }) {
			p.addf(key+".name", "header %q is an outputs.alb header", strings.ToLower(h.Name))
		}
		checkClaim(p, key+".claim", h.Claim, issuers)
		written = append(written, header{key + ".name", h.Name})
	}
	for i, h := range written {
		for _, prev := range written[:i] {
			if h.name != "" && sameHeader(prev.name, h.name) {
				p.addf(h.key, "header %q is also %s", strings.ToLower(h.name), prev.key)
				break
			}
		}
	}
	if !validHeaderValue(o.Kubeflow.UserIDPrefix) {
		p.addf("outputs.kubeflow.userid_prefix", "contains control characters")
	}
	if o.Flyte.Audience == "" || !validHeaderValue(o.Flyte.Audience) {
		p.addf("outputs.flyte.audience", "required, without control characters")
	}
	positive(p, "outputs.flyte.ttl", o.Flyte.TTL)
	if o.Flyte.TTL > maxFlyteTTL {
		p.addf("outputs.flyte.ttl", "must be at most %s", maxFlyteTTL)
	}
	if !validHeaderValue(o.ALB.Client) {
		p.addf("outputs.alb.client", "contains control characters")
	}
	for i, h := range o.StripHeaders {
		if !validToken(h) {
			p.addf(fmt.Sprintf("outputs.strip_headers[%d]", i), "invalid header name %s", safeQuote(h))
		}
	}
}

// sameHeader reports whether two header names are one to an upstream:
// letter case aside, and "_" read as "-" (WSGI, CGI).
func sameHeader(a, b string) bool {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	return norm(a) == norm(b)
}

// checkClaim checks that claim is one a declared header can carry: one
// the identity has a field for, or an issuer's user_claim. Names are
// exact: "Email" is not "email".
func checkClaim(p *problems, key, claim string, issuers []Issuer) {
	if claim == "" {
		p.addf(key, "required")
		return
	}
	if slices.Contains(outputs.DeclarableClaims, claim) ||
		slices.ContainsFunc(issuers, func(is Issuer) bool { return is.UserClaim == claim }) {
		return
	}
	p.addf(key, "%s is not a claim idgate keeps: one of %v or an issuer's user_claim", safeQuote(claim), outputs.DeclarableClaims)
}

// checkHeaderName checks that name may be an output header.
func checkHeaderName(p *problems, key, name string) {
	switch {
	case name == "":
		p.addf(key, "required")
	case !validToken(name):
		p.addf(key, "invalid header name %s", safeQuote(name))
	case reservedHeaders[strings.ToLower(name)]:
		p.addf(key, "header %q is reserved", name)
	}
}

func (c Cache) validate(p *problems) {
	if c.LocalSize < 0 {
		p.addf("cache.local_size", "must not be negative")
	}
	nonNegative(p, "cache.profile_ttl", c.ProfileTTL)
	nonNegative(p, "cache.negative_ttl", c.NegativeTTL)
}

func (r Redis) validate(p *problems) {
	for i, a := range r.Addrs {
		checkAddr(p, fmt.Sprintf("redis.addrs[%d]", i), a, true)
	}
	if r.MasterName != "" && len(r.Addrs) == 0 {
		p.addf("redis.master_name", "requires redis.addrs (the sentinels)")
	}
	switch {
	case r.Password != "" && r.PasswordFile != "":
		p.addf("redis.password_file", "mutually exclusive with redis.password")
	case r.PasswordFile != "":
		if _, err := readPasswordFile(r.PasswordFile); err != nil {
			p.addf("redis.password_file", "%w", err)
		}
	case r.Username != "" && r.Password == "":
		p.addf("redis.username", "requires redis.password or password_file")
	}
	if r.DB < 0 {
		p.addf("redis.db", "must not be negative")
	} else if r.DB != 0 && len(r.Addrs) > 1 && r.MasterName == "" {
		p.addf("redis.db", "must be 0 in cluster mode (several addrs)")
	}
	positive(p, "redis.dial_timeout", r.DialTimeout)
	positive(p, "redis.read_timeout", r.ReadTimeout)
	positive(p, "redis.write_timeout", r.WriteTimeout)
	if r.TLS.CAFile != "" {
		if !r.TLS.Enabled {
			p.addf("redis.tls.ca_file", "requires redis.tls.enabled")
		} else if _, err := ReadCertPool(r.TLS.CAFile); err != nil {
			p.addf("redis.tls.ca_file", "%w", err)
		}
	}
	if r.TLS.InsecureSkipVerify && !r.TLS.Enabled {
		p.addf("redis.tls.insecure_skip_verify", "requires redis.tls.enabled")
	}
}

// validToken reports whether s is an RFC 9110 token (header or method name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s has no control characters (CR, LF,
// NUL and the like) and so can be put in a header value.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether s looks like a host name, IP literal or
// host:port (letters, digits and . - _ : [ ] *).
func validHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte(".-_:[]*", c) >= 0) {
			return false
		}
	}
	return true
}

// safeQuote quotes a configured value for an error message, dropping any
// credentials before an '@' and cutting it to a readable length.
func safeQuote(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = "[redacted]@" + s[i+1:]
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strconv.Quote(s)
}
