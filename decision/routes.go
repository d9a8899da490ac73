package decision

import (
	"slices"
	"strings"

	"github.com/idgate/idgate/identity"
)

// Route is one rule of the route table. The first matching route wins; a
// request that matches none needs an authenticated user.
type Route struct {
	// PathPrefix matches whole path segments: /admin matches /admin and
	// /admin/x but not /administrator.
	PathPrefix string
	// Methods, when set, restrict the route to these methods.
	Methods []string
	// Hosts, when set, restrict the route to these hosts (port ignored).
	Hosts []string
	// Public routes need no token; identity headers are still stripped.
	Public bool
	// AllowGroups: the user must be in one of these groups (when set).
	AllowGroups []string
	// AllowEmailDomains: the user's email must be in one of these domains
	// (when set). Both lists set means both must hold.
	AllowEmailDomains []string
	// Mode is "" (the engine's default), ModeEnforce or ModeShadow.
	Mode string
	// OmitAccessToken keeps the caller's access token from this route's
	// upstream (x-amzn-oidc-accesstoken).
	OmitAccessToken bool
}

func (r *Route) matches(method, host, path string) bool {
	if !prefixMatch(r.PathPrefix, path) {
		return false
	}
	if len(r.Methods) > 0 && !slices.ContainsFunc(r.Methods, func(m string) bool { return strings.EqualFold(m, method) }) {
		return false
	}
	if len(r.Hosts) > 0 && !slices.ContainsFunc(r.Hosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		return false
	}
	return true
}

func prefixMatch(prefix, path string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || strings.HasSuffix(prefix, "/") || path[len(prefix)] == '/'
}

// allows reports whether a verified user passes the route's rules. An
// email the issuer's policy refused (unverified, foreign domain) is in no
// domain.
func (r *Route) allows(id *identity.Identity) bool {
	if len(r.AllowGroups) > 0 && !slices.ContainsFunc(r.AllowGroups, func(g string) bool {
		_, found := slices.BinarySearch(id.Groups, g)
		return found
	}) {
		return false
	}
	if len(r.AllowEmailDomains) > 0 {
		email := id.TrustedEmail()
		at := strings.LastIndexByte(email, '@')
		if at < 0 {
			return false
		}
		domain := email[at+1:]
		if !slices.ContainsFunc(r.AllowEmailDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return false
		}
	}
	return true
}

// Route modes.
const (
	ModeEnforce = "enforce"
	ModeShadow  = "shadow"
)

// name is the route's label in logs and metrics.
func (r *Route) name() string {
	if r == nil {
		return "default"
	}
	return r.PathPrefix
}
