package decision

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/idgate/idgate/identity"
)

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
	all   []string       // every name, for public routes and lookups
	index map[string]int // position of each name in all
	lists *removalLists
}

// removalLists caches removals by the set of names being set (a bit per
// position in stripList.all), for requests without x-auth-request-*
// headers: the common case costs a lookup, not a new list. Copy-on-write,
// so a lookup takes no lock.
type removalLists struct {
	mu sync.Mutex
	m  atomic.Pointer[map[uint64][]string]
}

// maxCachedLists bounds lists; real configurations produce a handful.
const maxCachedLists = 64

func newStripList(emitted, extra []string) stripList {
	s := stripList{index: map[string]int{}, lists: &removalLists{}}
	for _, group := range [][]string{identityHeaders, emitted, extra} {
		for _, n := range group {
			n = strings.ToLower(strings.TrimSpace(n))
			if _, dup := s.index[n]; n != "" && !dup {
				s.index[n] = len(s.all)
				s.all = append(s.all, n)
			}
		}
	}
	return s
}

// removals returns the names to put in headers_to_remove: every strip name
// that is not also being set (a header both set and removed would be lost
// when the proxy removes after setting, as Envoy does), plus any
// x-auth-request-* header the client sent. The result may be shared: it is
// never to be written to, and its capacity equals its length so an append
// copies it.
func (s *stripList) removals(set []identity.Header, headers map[string]string) []string {
	if len(s.all) <= 64 && !hasStripPrefix(headers) {
		var mask uint64
		for _, h := range set {
			if i, ok := s.index[h.Name]; ok {
				mask |= 1 << uint(i)
			}
		}
		return s.cached(mask)
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
		if strings.HasPrefix(n, stripPrefix) && !contains(out, n) && !isSet(n) {
			out = append(out, n)
		}
	}
	return out
}

// cached returns the names of all whose bit is not in mask.
func (s *stripList) cached(mask uint64) []string {
	c := s.lists
	if m := c.m.Load(); m != nil {
		if l, ok := (*m)[mask]; ok {
			return l
		}
	}
	out := make([]string, 0, len(s.all))
	for i, n := range s.all {
		if mask&(1<<uint(i)) == 0 {
			out = append(out, n)
		}
	}
	out = out[:len(out):len(out)]
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil && len(*old) >= maxCachedLists {
		return out
	}
	next := make(map[uint64][]string, 4)
	if old != nil {
		maps.Copy(next, *old)
	}
	next[mask] = out
	c.m.Store(&next)
	return out
}

func hasStripPrefix(headers map[string]string) bool {
	for n := range headers {
		if strings.HasPrefix(n, stripPrefix) {
			return true
		}
	}
	return false
}

// spoofed names the identity headers the client itself sent, in strip-list
// order. Names outside the fixed list are reported as "x-auth-request-*" so
// a client cannot grow the metric's label set. A clean request costs one
// lookup per header it carries and allocates nothing.
func (s *stripList) spoofed(headers map[string]string) []string {
	var found uint64
	var overflow, family bool
	for n := range headers {
		i, ok := s.index[n]
		switch {
		case ok && i < 64:
			found |= 1 << uint(i)
		case ok:
			overflow = true
		case strings.HasPrefix(n, stripPrefix):
			family = true
		}
	}
	if found == 0 && !overflow && !family {
		return nil
	}
	var out []string
	for i, n := range s.all {
		if i < 64 {
			if found&(1<<uint(i)) != 0 {
				out = append(out, n)
			}
		} else if _, ok := headers[n]; ok {
			out = append(out, n)
		}
	}
	if family {
		out = append(out, stripPrefix+"*")
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
