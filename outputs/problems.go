package outputs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// MaxFlyteTTL bounds FlyteTTL: a longer-lived signed identity would outlast
// a revoked or expired source token by too much.
const MaxFlyteTTL = 5 * time.Minute

// reservedHeaders may not be output headers: writing them would rewrite
// the request's own credentials or framing.
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

// albHeaders are written while ALB is enabled, in the order reported.
var albHeaders = []string{ALBData, ALBIdentity, ALBAccessToken}

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

// Problems returns every problem of cfg's settings, each an error
// "<prefix><key>: <reason>"; New refuses a Config with any, and these are
// the only rules for the header outputs. Keys are named as in idgate's
// configuration under outputs (kubeflow.userid_header, headers[0].name,
// flyte.ttl), so config passes "outputs.". Whether a declared header's
// claim is one an issuer provides spans keys: the caller checks it.
func (cfg *Config) Problems(prefix string) []error {
	var ps []error
	add := func(key, format string, args ...any) {
		ps = append(ps, fmt.Errorf(prefix+key+": "+format, args...))
	}
	type header struct{ key, name string }
	written := []header{
		{"kubeflow.userid_header", cfg.UserIDHeader},
		{"kubeflow.groups_header", cfg.GroupsHeader},
		{"flyte.header", cfg.FlyteHeader},
	}
	for _, h := range written {
		if h.name == "" && h.key != "kubeflow.userid_header" {
			continue // an empty groups or flyte header turns it off
		}
		checkHeaderName(add, h.key, h.name)
	}
	if cfg.ALB.Enabled {
		for _, name := range albHeaders {
			written = append(written, header{"alb (" + name + ")", name})
		}
	}
	for i, h := range cfg.Headers {
		key := fmt.Sprintf("headers[%d]", i)
		checkHeaderName(add, key+".name", h.Name)
		if n := headerKey(h.Name); hopByHop[n] || credentialHeaders[n] {
			add(key+".name", "header %q is a hop-by-hop or credential header", strings.ToLower(h.Name))
		}
		// The ALB names are taken even while ALB is off, so enabling it
		// never meets a declared header of the same name.
		if !cfg.ALB.Enabled && slices.ContainsFunc(albHeaders, func(a string) bool { return sameHeader(a, h.Name) }) {
			add(key+".name", "header %q is an %salb header", strings.ToLower(h.Name), prefix)
		}
		if h.Claim == "" {
			add(key+".claim", "required")
		}
		written = append(written, header{key + ".name", h.Name})
	}
	for i, h := range written {
		for _, prev := range written[:i] {
			if h.name != "" && sameHeader(prev.name, h.name) {
				add(h.key, "header %q is also %s%s", strings.ToLower(h.name), prefix, prev.key)
				break
			}
		}
	}
	if !ValidHeaderValue(cfg.UserIDPrefix) {
		add("kubeflow.userid_prefix", "contains control characters")
	}
	if cfg.FlyteAudience == "" || !ValidHeaderValue(cfg.FlyteAudience) {
		add("flyte.audience", "required, without control characters")
	}
	if cfg.FlyteTTL <= 0 {
		add("flyte.ttl", "must be positive")
	} else if cfg.FlyteTTL > MaxFlyteTTL {
		add("flyte.ttl", "must be at most %s", MaxFlyteTTL)
	}
	if !ValidHeaderValue(cfg.ALB.Client) {
		add("alb.client", "contains control characters")
	}
	return ps
}

// headerKey is a header name as an upstream or the proxy may read it:
// letter case aside, and "_" read as "-" (WSGI, CGI, nginx's
// $upstream_http_* variables).
func headerKey(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }

// sameHeader reports whether two header names are one to an upstream.
func sameHeader(a, b string) bool { return headerKey(a) == headerKey(b) }

// checkHeaderName checks that name may be an output header.
func checkHeaderName(add func(key, format string, args ...any), key, name string) {
	switch {
	case name == "":
		add(key, "required")
	case !httpguts.ValidHeaderFieldName(name):
		add(key, "invalid header name %s", quote(name))
	case reservedHeaders[headerKey(name)]:
		add(key, "header %q is reserved", name)
	}
}

// ValidHeaderValue reports whether s has no control characters (CR, LF,
// NUL and the like) and so can be put in a header value.
func ValidHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// quote quotes a configured name for an error message, dropping anything
// before an '@' (credentials pasted by mistake) and cutting it to a
// readable length.
func quote(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = "[redacted]@" + s[i+1:]
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strconv.Quote(s)
}
