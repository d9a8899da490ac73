package decision

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/idgate/idgate/identity"
)

// Forwarder is a workload trusted to pass on identity headers it was given
// (Kubeflow's ml-pipeline-ui calling ml-pipeline for the user it serves).
// It is recognised by its mTLS peer identity only, as Envoy reports it in
// the CheckRequest's source.principal: a header such as
// x-forwarded-client-cert is written by whoever sends the request, so it
// never makes a caller trusted.
type Forwarder struct {
	// Principal is the peer's identity exactly as Envoy reports it; Istio
	// sets spiffe://<trust domain>/ns/<namespace>/sa/<service account>.
	Principal string
	// Headers are the identity headers (lower case) this peer's requests
	// carry to the upstream unchanged when they come without a bearer
	// token; every other identity header is stripped as always.
	Headers []string
}

// forwarders indexes Config.Forwarders by principal.
type forwarders map[string]Forwarder

// newForwarders checks and indexes fs; known reports whether idgate knows
// a header as an identity header (it strips it, so passing it on is a
// decision idgate can make).
func newForwarders(fs []Forwarder, known func(string) bool) (forwarders, error) {
	out := make(forwarders, len(fs))
	var errs []error
	for i, f := range fs {
		if f.Principal == "" {
			errs = append(errs, fmt.Errorf("decision: forwarder %d: principal required", i))
		}
		if _, dup := out[f.Principal]; dup {
			errs = append(errs, fmt.Errorf("decision: forwarder %s listed twice", f.Principal))
		}
		if len(f.Headers) == 0 {
			errs = append(errs, fmt.Errorf("decision: forwarder %s: headers required", f.Principal))
		}
		hs := make([]string, len(f.Headers))
		for j, h := range f.Headers {
			hs[j] = strings.ToLower(h)
			if !known(hs[j]) {
				errs = append(errs, fmt.Errorf("decision: forwarder %s: %q is not an identity header idgate strips", f.Principal, h))
			}
		}
		out[f.Principal] = Forwarder{Principal: f.Principal, Headers: hs}
	}
	return out, errors.Join(errs...)
}

// IdentityHeaders lists the identity headers idgate strips whatever its
// configuration (besides the configured output names and strip_headers):
// the headers a trusted forwarder may be allowed to pass on.
func IdentityHeaders() []string { return slices.Clone(identityHeaders) }

var (
	// denyForwardedCopies: a forwarded header came in several copies or
	// spellings, so upstreams could read different values.
	denyForwardedCopies = denial{http.StatusBadRequest, "forwarded_copies", "a forwarded identity header must be sent exactly once", false}
	// denyForwardedUnsafe: a forwarded header value holds CR, LF or NUL.
	denyForwardedUnsafe = denial{http.StatusBadRequest, "forwarded_unsafe", "a forwarded identity header holds a control character", false}
)

// forwarded returns the trusted forwarder whose headers decide req: the
// peer is listed, the request carries no bearer credential, and it holds
// one of the forwarder's headers in some spelling. Otherwise ok is false
// and the request is decided as anyone's.
func (e *Engine) forwarded(req *Request) (Forwarder, bool) {
	if req.Principal == "" || len(e.fwd) == 0 {
		return Forwarder{}, false
	}
	f, ok := e.fwd[req.Principal]
	if !ok {
		return Forwarder{}, false
	}
	if _, err := bearerToken(req.Headers); !errors.Is(err, errNoToken) {
		return Forwarder{}, false // a token decides, valid or not
	}
	for n := range req.Headers {
		norm, _ := normalName(n)
		if slices.Contains(f.Headers, norm) {
			return f, true
		}
	}
	return Forwarder{}, false
}

// forward decides a request whose identity a trusted forwarder asserts:
// its listed headers pass unchanged (after checks), every other identity
// header is stripped, and the route's rules see the forwarded user id and
// groups (an email-domain rule never matches: no email was verified).
func (e *Engine) forward(res Result, req *Request, route *Route, f Forwarder, cookie *identity.Header, dropCookie bool) Result {
	for _, name := range f.Headers {
		if d, ok := e.checkForwarded(req, name); !ok {
			return e.deny(res, d, "")
		}
	}
	id := identity.Identity{Source: identity.SourceForwarded, UserClaim: "sub"}
	if slices.Contains(f.Headers, e.cfg.UserIDHeader) {
		if id.Subject = req.Headers[e.cfg.UserIDHeader]; id.Subject == "" {
			return e.deny(res, denyMissing, "")
		}
	}
	if slices.Contains(f.Headers, e.cfg.GroupsHeader) {
		id.Groups = forwardedGroups(req.Headers[e.cfg.GroupsHeader])
	}
	res.Identity = &id
	if route != nil && !route.allows(&id) {
		return e.deny(res, denyForbidden, "")
	}
	res.Allowed, res.Status, res.Reason, res.Forwarder = true, http.StatusOK, "forwarded", f.Principal
	// What a trusted forwarder may send is no spoof attempt (the alert on
	// idgate_spoof_attempts_total would fire on every call).
	res.Spoofed = slices.DeleteFunc(slices.Clone(res.Spoofed), func(n string) bool { return slices.Contains(f.Headers, n) })
	remove := e.strip.removalsScanned(nil, req.Headers, res.unusualHeaders)
	remove = slices.DeleteFunc(slices.Clone(remove), func(n string) bool { return slices.Contains(f.Headers, n) })
	res.Set, res.Remove = e.withCookie(nil, remove, cookie, dropCookie)
	res.Remove = strayCredentials(res.Remove, req.Headers, func(string) bool { return false })
	return res
}

// checkForwarded accepts a forwarded header that is absent or present
// exactly once, under its own name only, with a safe value. Envoy joins
// copies of a header with ",", so a "," in a single-valued header is taken
// for two copies; a list-valued one (groups) relies on Request.Repeated.
func (e *Engine) checkForwarded(req *Request, name string) (denial, bool) {
	for n := range req.Headers {
		if norm, under := normalName(n); under && norm == name {
			return denyForwardedCopies, false // kubeflow_userid beside or instead of kubeflow-userid
		}
	}
	v, ok := req.Headers[name]
	if !ok {
		return denial{}, true
	}
	if slices.Contains(req.Repeated, name) || !e.listValued(name) && strings.IndexByte(v, ',') >= 0 {
		return denyForwardedCopies, false
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return denyForwardedUnsafe, false
	}
	return denial{}, true
}

// listValued reports a header whose value is a ","-separated list.
func (e *Engine) listValued(name string) bool {
	return name == e.cfg.GroupsHeader || strings.HasSuffix(name, "-groups")
}

// forwardedGroups reads a groups header as idgate writes it: names joined
// by ",", a name holding "%" percent-encoded. A name that does not decode
// is dropped (it matches no rule).
func forwardedGroups(v string) []string {
	var out []string
	for _, g := range strings.Split(v, ",") {
		if strings.IndexByte(g, '%') >= 0 {
			d, err := url.PathUnescape(g)
			if err != nil {
				continue
			}
			g = d
		}
		if g != "" {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
