package decision

import "slices"

// DenyReasons are the Result.Reason values of denials that do not come
// from Config.VerifyReason, so metrics can export them at zero before the
// first denial.
func DenyReasons() []string {
	return []string{denyMissing.reason, denyMalformed.reason, denyForbidden.reason, denyUnsafe.reason,
		denyUnverifiedEmail.reason, denyBadPath.reason, denyBadHost.reason, denyForwardedCopies.reason, denyForwardedUnsafe.reason}
}

// DegradedReasons are the Identity.Degraded values the engine itself sets
// (an Enricher adds its own).
func DegradedReasons() []string { return []string{"missing_user_claim"} }

// StrippedHeaders lists every name Result.Spoofed can hold: the stripped
// header names and the prefix families ("x-pomerium-*").
func (e *Engine) StrippedHeaders() []string {
	out := slices.Clone(e.strip.all)
	for _, p := range stripPrefixes {
		out = append(out, p+"*")
	}
	return out
}
