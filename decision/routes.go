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
	// /admin/x but not /administrator. A public route matches it exactly;
	// any other route ignores letter case (/ADMIN is /admin), because
	// Express and others route case-insensitively.
	PathPrefix string
	// ExactPath matches the path PathPrefix names and no path under it
	// (/a matches /a only, not /a/ nor /a/b): a public route that opens one
	// endpoint opens nothing else an upstream may serve beneath it. Public
	// routes only: /a/, which many upstreams serve as /a, must never fall
	// to a weaker route than /a.
	ExactPath bool
	// Methods, when set, restrict the route to these methods.
	Methods []string
	// Hosts, when set, restrict the route to these hosts (port ignored,
	// letter case and one trailing dot too).
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
	// AllowEncodedSlashes lets a path of this route hold %2F or %5C. They
	// are matched as ordinary characters of a segment, never as
	// separators, and the request is still refused when an upstream that
	// decodes them would route it elsewhere or meet a dot segment. Without
	// it such a path is refused (400 bad_path).
	AllowEncodedSlashes bool

	encodedPrefix string // PathPrefix as a raw request path spells it
}

// prepare normalises a route for matching (New calls it on its own copy).
func (r *Route) prepare() {
	r.encodedPrefix = encodedPrefix(r.PathPrefix)
	hosts := make([]string, len(r.Hosts))
	for i, h := range r.Hosts {
		hosts[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	}
	r.Hosts = hosts
}

// matches reports whether the route applies to one reading of the path;
// host is normalised (normalHost).
func (r *Route) matches(method, host string, f pathForm) bool {
	prefix := r.PathPrefix
	if f.encoded && r.encodedPrefix != "" {
		prefix = r.encodedPrefix
	}
	if !prefixMatch(prefix, f.path, !r.Public) || r.ExactPath && len(f.path) != len(prefix) {
		return false
	}
	if len(r.Methods) > 0 && !slices.ContainsFunc(r.Methods, func(m string) bool { return strings.EqualFold(m, method) }) {
		return false
	}
	if len(r.Hosts) > 0 && !slices.Contains(r.Hosts, host) {
		return false
	}
	return true
}

// prefixMatch matches whole segments; fold ignores letter case.
func prefixMatch(prefix, path string, fold bool) bool {
	if len(path) < len(prefix) {
		return false
	}
	head := path[:len(prefix)]
	if fold && !strings.EqualFold(head, prefix) || !fold && head != prefix {
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
