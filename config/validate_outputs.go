package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idgate/idgate/outputs"
	"golang.org/x/net/http/httpguts"
)

// RendererConfig is the outputs package's Config for these settings: the
// header names, the Flyte token's audience and TTL, ALB's switches and the
// declared headers. The caller adds what other keys decide (signing.issuer
// as Issuer and ALB.Signer, issuers[].user_id_prefix, the clock).
func (o Outputs) RendererConfig() outputs.Config {
	headers := make([]outputs.HeaderOutput, len(o.Headers))
	for i, h := range o.Headers {
		headers[i] = outputs.HeaderOutput{Name: h.Name, Claim: h.Claim}
	}
	return outputs.Config{
		UserIDHeader:  o.Kubeflow.UserIDHeader,
		UserIDPrefix:  o.Kubeflow.UserIDPrefix,
		GroupsHeader:  o.Kubeflow.GroupsHeader,
		FlyteHeader:   o.Flyte.Header,
		FlyteAudience: o.Flyte.Audience,
		FlyteTTL:      o.Flyte.TTL,
		ALB:           outputs.ALBConfig{Enabled: o.ALB.Enabled, Padding: o.ALB.Padding, Client: o.ALB.Client},
		Headers:       headers,
	}
}

// validate leaves the header rules to the outputs package and checks what
// spans keys or is idgate's own policy: declared claims against the
// issuers, the groups and Flyte headers required (outputs lets an empty
// one turn it off), and strip_headers.
func (o Outputs) validate(p *problems, issuers []Issuer) {
	rc := o.RendererConfig()
	for _, err := range rc.Problems("outputs.") {
		*p = append(*p, fmt.Errorf("config: %w", err))
	}
	if o.Kubeflow.GroupsHeader == "" {
		p.addf("outputs.kubeflow.groups_header", "required")
	}
	if o.Flyte.Header == "" {
		p.addf("outputs.flyte.header", "required")
	}
	for i, h := range o.Headers {
		checkClaim(p, fmt.Sprintf("outputs.headers[%d].claim", i), h.Claim, issuers)
	}
	for i, h := range o.StripHeaders {
		if !validToken(h) {
			p.addf(fmt.Sprintf("outputs.strip_headers[%d]", i), "invalid header name %s", safeQuote(h))
		}
	}
}

// checkClaim checks that claim is one a declared header can carry: one
// the identity has a field for, or an issuer's user_claim. Names are
// exact: "Email" is not "email".
func checkClaim(p *problems, key, claim string, issuers []Issuer) {
	if claim == "" { // outputs reports it
		return
	}
	if slices.Contains(outputs.DeclarableClaims, claim) ||
		slices.ContainsFunc(issuers, func(is Issuer) bool { return is.UserClaim == claim }) {
		return
	}
	p.addf(key, "%s is not a claim idgate keeps: one of %v or an issuer's user_claim", safeQuote(claim), outputs.DeclarableClaims)
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
func validToken(s string) bool { return httpguts.ValidHeaderFieldName(s) }

// validHeaderValue reports whether s has no control characters (CR, LF,
// NUL and the like) and so can be put in a header value.
func validHeaderValue(s string) bool { return outputs.ValidHeaderValue(s) }

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
