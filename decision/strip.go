package decision

import "strings"

// identityHeaders are the headers any identity-aware proxy in this space
// emits (ours, ALB's, oauth2-proxy's). A client must never be able to supply
// them, so all of them are stripped on every request idgate lets through,
// whatever the configured output names are.
var identityHeaders = []string{
	"kubeflow-userid",
	"kubeflow-groups",
	"x-flyte-identity",
	"x-amzn-oidc-data",
	"x-amzn-oidc-identity",
	"x-amzn-oidc-accesstoken",
	"x-forwarded-user",
	"x-forwarded-email",
	"x-forwarded-groups",
	"x-forwarded-preferred-username",
	"x-forwarded-access-token",
	"x-auth-request-user",
	"x-auth-request-email",
	"x-auth-request-groups",
	"x-auth-request-preferred-username",
	"x-auth-request-access-token",
}

// stripPrefix covers the x-auth-request-* family beyond the names above;
// those are found by scanning the request's own headers.
const stripPrefix = "x-auth-request-"

// stripList is the precomputed set of names removed from an allowed request.
type stripList struct {
	all []string // every name, for public routes and lookups
}

func newStripList(emitted, extra []string) stripList {
	seen := map[string]bool{}
	var all []string
	for _, group := range [][]string{identityHeaders, emitted, extra} {
		for _, n := range group {
			n = strings.ToLower(strings.TrimSpace(n))
			if n != "" && !seen[n] {
				seen[n] = true
				all = append(all, n)
			}
		}
	}
	return stripList{all: all}
}

// removals returns the names to put in headers_to_remove: every strip name
// that is not also being set (a header both set and removed would be lost
// when the proxy removes after setting, as Envoy does), plus any
// x-auth-request-* header the client sent.
func (s *stripList) removals(set []string, headers map[string]string) []string {
	out := make([]string, 0, len(s.all)+2)
	for _, n := range s.all {
		if !contains(set, n) {
			out = append(out, n)
		}
	}
	for n := range headers {
		if strings.HasPrefix(n, stripPrefix) && !contains(out, n) && !contains(set, n) {
			out = append(out, n)
		}
	}
	return out
}

// spoofed names the identity headers the client itself sent. Names outside
// the fixed list are reported as "x-auth-request-*" so a client cannot grow
// the metric's label set.
func (s *stripList) spoofed(headers map[string]string) []string {
	var out []string
	for _, n := range s.all {
		if _, ok := headers[n]; ok {
			out = append(out, n)
		}
	}
	for n := range headers {
		if strings.HasPrefix(n, stripPrefix) && !contains(s.all, n) && !contains(out, stripPrefix+"*") {
			out = append(out, stripPrefix+"*")
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
