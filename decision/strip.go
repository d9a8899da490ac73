package decision

import (
	"strings"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/cache"
)

// identityHeaders are the headers any identity-aware proxy in this space
// emits (ours, ALB's, oauth2-proxy's, Apache's and Grafana's REMOTE_USER
// forms). A client must never be able to supply them, so all of them are
// stripped on every request idgate lets through, whatever the configured
// output names are.
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
	"remote-user",
	"x-remote-user",
	"x-webauth-user",
}

// stripPrefixes are header families other identity proxies emit
// (oauth2-proxy, Google IAP, Pomerium's assertions and claims, Cloudflare
// Access); every header of the family the client sent is removed.
var stripPrefixes = [...]string{"x-auth-request-", "x-goog-authenticated-user-", "x-pomerium-", "cf-access-"}

// underscoreOnly are headers idgate reads under their "-" name only; a "_"
// spelling was never verified, and a WSGI upstream reads it as the real
// one, so it is removed too.
var underscoreOnly = [...]string{"flyte-authorization"}

// family returns the strip family n (a normalised name) belongs to, or "".
func family(n string) string {
	if n == "" || n[0] != 'x' && n[0] != 'c' {
		return ""
	}
	for _, p := range stripPrefixes {
		if strings.HasPrefix(n, p) {
			return p
		}
	}
	return ""
}

// normalName is the name a WSGI or CGI server reads n as, in the "-"
// spelling: lower case, "_" for "-". ok is false when n has no "_" (it is
// then its own normal name; request names are lower-case already).
func normalName(n string) (string, bool) {
	if strings.IndexByte(n, '_') < 0 {
		return n, false
	}
	return strings.ReplaceAll(strings.ToLower(n), "_", "-"), true
}

// unusual reports a request header removals cannot answer from its cache:
// a strip family member or a "_" spelling.
func unusual(n string) bool {
	return strings.IndexByte(n, '_') >= 0 || family(n) != ""
}

// stripList is the precomputed set of names removed from an allowed request.
type stripList struct {
	all   []string       // every name, for public routes and lookups
	index map[string]int // position of each name in all
	// bit numbers the names a Renderer may set (its Names), at most 64:
	// the key of a cached removal list is the set of those being set, so
	// its cost does not grow with the number of extra strip headers.
	bit   map[string]uint8
	lists *removalLists
}

// removalLists caches removals by the set of names being set (a bit per
// name in stripList.bit), for requests without x-auth-request-* headers:
// the common case costs a lookup, not a new list. Reads take no lock.
type removalLists = cache.ReadMostly[uint64, []string]

// maxCachedLists bounds lists; real configurations produce a handful.
const maxCachedLists = 64

func newStripList(emitted, extra []string) stripList {
	s := stripList{index: map[string]int{}, bit: map[string]uint8{}, lists: cache.NewReadMostly[uint64, []string](maxCachedLists)}
	add := func(n string) {
		if _, dup := s.index[n]; n != "" && !dup {
			s.index[n] = len(s.all)
			s.all = append(s.all, n)
		}
	}
	for _, group := range [][]string{identityHeaders, emitted, extra} {
		for _, n := range group {
			n = strings.ToLower(strings.TrimSpace(n))
			add(n)
			// A configured "_" name (x_user) is read by WSGI as x-user
			// too: strip the "-" spelling, and so every spelling.
			add(strings.ReplaceAll(n, "_", "-"))
		}
	}
	for _, n := range emitted {
		n = strings.ToLower(strings.TrimSpace(n))
		if _, dup := s.bit[n]; n != "" && !dup && len(s.bit) < 64 {
			s.bit[n] = uint8(len(s.bit))
		}
	}
	return s
}

// removals returns the names to put in headers_to_remove: every strip name
// that is not also being set (a header both set and removed would be lost
// when the proxy removes after setting, as Envoy does), plus every header
// the client sent of a strip family or whose "_" spelling normalises to a
// strip name (kubeflow_groups), by the exact name the client sent. The
// result may be shared: it is never to be written to, and its capacity
// equals its length so an append copies it.
func (s *stripList) removals(set []identity.Header, headers map[string]string) []string {
	return s.removalsScanned(set, headers, hasUnusual(headers))
}

// removalsScanned is removals when the caller has scanned the headers
// already (scan's unusual), saving a second pass over them.
func (s *stripList) removalsScanned(set []identity.Header, headers map[string]string, unusual bool) []string {
	if !unusual {
		if mask, ok := s.setMask(set); ok {
			return s.cached(mask)
		}
	}
	isSet := func(n string) bool {
		for _, h := range set {
			if h.Name == n {
				return true
			}
		}
		return false
	}
	out := make([]string, 0, len(s.all)+2)
	for _, n := range s.all {
		if !isSet(n) {
			out = append(out, n)
		}
	}
	for n := range headers {
		if s.strips(n) && !contains(out, n) && !isSet(n) {
			out = append(out, n)
		}
	}
	return out
}

// strips reports whether the request header n is removed beyond s.all: a
// family member, or a "_" spelling of a strip name or of a token header.
func (s *stripList) strips(n string) bool {
	norm, underscored := normalName(n)
	if family(norm) != "" {
		return true
	}
	if !underscored {
		return false
	}
	if _, ok := s.index[norm]; ok {
		return true
	}
	for _, u := range underscoreOnly {
		if norm == u {
			return true
		}
	}
	return false
}

// setMask is the set of strip names being set, as bits; ok is false when
// a strip name without a bit is set (a Renderer setting a name it did not
// declare), which the slow path handles.
func (s *stripList) setMask(set []identity.Header) (mask uint64, ok bool) {
	for _, h := range set {
		if b, has := s.bit[h.Name]; has {
			mask |= 1 << b
		} else if _, strip := s.index[h.Name]; strip {
			return 0, false
		}
	}
	return mask, true
}

// cached returns the names of all not being set: those without a bit or
// whose bit is not in mask.
func (s *stripList) cached(mask uint64) []string {
	if l, ok := s.lists.Get(mask); ok {
		return l
	}
	return s.lists.GetOrAdd(mask, func() []string {
		out := make([]string, 0, len(s.all))
		for _, n := range s.all {
			if b, has := s.bit[n]; !has || mask&(1<<b) == 0 {
				out = append(out, n)
			}
		}
		return out[:len(out):len(out)]
	})
}

func hasUnusual(headers map[string]string) bool {
	for n := range headers {
		if unusual(n) {
			return true
		}
	}
	return false
}

// spoofed names the identity headers the client itself sent (see scan).
func (s *stripList) spoofed(headers map[string]string) []string {
	out, _ := s.scan(headers)
	return out
}

// scan reads the request's header names once. spoofed names the identity
// headers the client itself sent, in strip-list order, by their normal
// name ("kubeflow_groups" is reported as "kubeflow-groups"); family members
// outside the fixed list are reported as their family ("x-pomerium-*") so a
// client cannot grow the metric's label set. unusual says removals needs
// its slow path (a "_" spelling or a family member beyond the list). A
// clean request allocates nothing.
func (s *stripList) scan(headers map[string]string) (spoofed []string, unusual bool) {
	var found uint64
	var overflow []string // normal names past the 64 the mask holds
	var families uint8
	for n := range headers {
		norm, underscored := normalName(n)
		unusual = unusual || underscored
		i, ok := s.index[norm]
		switch {
		case ok && i < 64:
			found |= 1 << uint(i)
		case ok:
			overflow = append(overflow, norm)
		default:
			if f := family(norm); f != "" {
				unusual = true
				for j, p := range stripPrefixes {
					if p == f {
						families |= 1 << uint(j)
					}
				}
			}
		}
	}
	if found == 0 && len(overflow) == 0 && families == 0 {
		return nil, unusual
	}
	var out []string
	for i, n := range s.all {
		if i < 64 {
			if found&(1<<uint(i)) != 0 {
				out = append(out, n)
			}
		} else if contains(overflow, n) {
			out = append(out, n)
		}
	}
	for j, p := range stripPrefixes {
		if families&(1<<uint(j)) != 0 {
			out = append(out, p+"*")
		}
	}
	return out, unusual
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
