package decision

import (
	"net/http"
	"slices"
	"strings"

	"github.com/idgate/idgate/identity"
)

// albIdentity is the subject header an AWS ALB sets; in shadow mode idgate
// compares its own verified subject with it, whatever idgate emits itself.
const albIdentity = "x-amzn-oidc-identity"

// shadow turns a decision into its shadow form: the request is never
// denied and idgate sets nothing, and the Result says what idgate would
// have done and where its identity differs from the one the request
// already carries (from an ALB, oauth2-proxy, ...), so an operator can
// compare before switching to enforce.
//
// Stripping still holds: every identity header is removed as in enforce
// mode, except the ones the proxy being replaced writes and the upstream
// still reads until enforce (see kept). A client's x-flyte-identity,
// x-forwarded-user or kubeflow_userid never passes, in any mode.
func (e *Engine) shadow(res Result, headers map[string]string) Result {
	res.Shadow, res.WouldAllow = true, res.Allowed
	res.Mismatches = e.mismatches(&res, headers)
	res.Allowed, res.Status = true, http.StatusOK
	res.Set, res.ResponseHeaders = nil, nil
	forwarded := e.fwd[res.Forwarder].Headers // empty unless a trusted forwarder's headers decided
	kept := func(n string) bool { return e.keptInShadow(n) || slices.Contains(forwarded, n) }
	// The strip scan Decide made already says whether the slow path is
	// needed; the list may be shared, so it is copied only to drop names.
	res.Remove = e.strip.removalsScanned(nil, headers, res.unusualHeaders)
	if slices.ContainsFunc(res.Remove, kept) {
		res.Remove = slices.DeleteFunc(slices.Clone(res.Remove), kept)
	}
	return res
}

// keptInShadow reports a header shadow mode leaves in place: one the proxy
// being replaced writes, by its exact name: the compared ones (user id,
// groups, declared headers) and ALB's x-amzn-oidc-* family. A "_"
// spelling or another letter case is never the proxy's, so it is removed.
func (e *Engine) keptInShadow(name string) bool {
	return slices.Contains(e.cfg.ShadowCompare, name) || strings.HasPrefix(name, "x-amzn-oidc-")
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
