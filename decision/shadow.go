package decision

import (
	"net/http"
	"strings"

	"github.com/idgate/idgate/identity"
)

// albIdentity is the subject header an AWS ALB sets; in shadow mode idgate
// compares its own verified subject with it, whatever idgate emits itself.
const albIdentity = "x-amzn-oidc-identity"

// shadow turns a decision into its shadow form: the request passes
// untouched (no header set or removed, never denied), and the Result says
// what idgate would have done and where its identity differs from the one
// the request already carries (from an ALB, oauth2-proxy, ...), so an
// operator can compare before switching to enforce.
func (e *Engine) shadow(res Result, headers map[string]string) Result {
	res.Shadow, res.WouldAllow = true, res.Allowed
	res.Mismatches = e.mismatches(&res, headers)
	res.Allowed, res.Status = true, http.StatusOK
	res.Set, res.Remove, res.ResponseHeaders = nil, nil, nil
	return res
}

// mismatches names the compared headers the request carries whose value
// differs from what idgate computed (a header the request lacks is not
// compared: the proxy being replaced may not send it). A denial while the
// request carries an identity is reported as "decision".
func (e *Engine) mismatches(res *Result, headers map[string]string) []string {
	var out []string
	if !res.Allowed {
		for _, n := range e.cfg.ShadowCompare {
			if headers[n] != "" {
				return append(out, "decision")
			}
		}
		if headers[albIdentity] != "" {
			return append(out, "decision")
		}
		return nil
	}
	if res.Forwarder != "" {
		return nil // the forwarded headers are the identity; nothing to compare
	}
	for _, n := range e.cfg.ShadowCompare {
		if got, ok := headers[n]; ok && got != valueOf(res.Set, n) {
			out = append(out, n)
		}
	}
	if got, ok := headers[albIdentity]; ok && res.Identity != nil && got != res.Identity.Subject {
		out = append(out, albIdentity)
	}
	return out
}

func valueOf(set []identity.Header, name string) string {
	for _, h := range set {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
