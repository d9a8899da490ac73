package jwks

import "errors"

// Refusals returned by Verify. Callers branch with errors.Is; Reason turns
// them into metric labels.
var (
	// ErrMalformed: empty, not three base64url segments, bad JSON, a crit
	// header, or required claims (sub, exp, iss) missing.
	ErrMalformed = errors.New("jwks: malformed token")
	// ErrTooLarge: longer than MaxTokenBytes.
	ErrTooLarge = errors.New("jwks: token too large")
	// ErrUnknownIssuer: `iss` is not a configured issuer.
	ErrUnknownIssuer = errors.New("jwks: unknown issuer")
	// ErrAlgorithm: alg not allowed, or not matching the key.
	ErrAlgorithm = errors.New("jwks: algorithm not allowed")
	// ErrUnknownKey: no key with the token's kid, even after a refetch.
	ErrUnknownKey = errors.New("jwks: unknown signing key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwks: invalid signature")
	// ErrExpired: exp is past (beyond the clock skew).
	ErrExpired = errors.New("jwks: token expired")
	// ErrNotYetValid: nbf is in the future (beyond the clock skew).
	ErrNotYetValid = errors.New("jwks: token not yet valid")
	// ErrIssuedInFuture: iat is in the future (beyond the clock skew).
	ErrIssuedInFuture = errors.New("jwks: token issued in the future")
	// ErrAudience: aud contains none of the issuer's audiences.
	ErrAudience = errors.New("jwks: audience not accepted")
	// ErrNoKeys: the issuer's keys could not be loaded (or are too stale).
	ErrNoKeys = errors.New("jwks: no keys for issuer")
)

var reasons = []struct {
	err    error
	reason string
}{
	{ErrMalformed, "malformed"},
	{ErrTooLarge, "too_large"},
	{ErrUnknownIssuer, "unknown_issuer"},
	{ErrAlgorithm, "algorithm"},
	{ErrUnknownKey, "unknown_key"},
	{ErrSignature, "signature"},
	{ErrExpired, "expired"},
	{ErrNotYetValid, "not_yet_valid"},
	{ErrIssuedInFuture, "iat_future"},
	{ErrAudience, "audience"},
	{ErrNoKeys, "no_keys"},
	{ErrNonce, "nonce"},
}

// Reasons are every value Reason returns for an error, for metrics to
// export at zero.
func Reasons() []string {
	out := make([]string, 0, len(reasons)+1)
	for _, r := range reasons {
		out = append(out, r.reason)
	}
	return append(out, "internal")
}

// Reason is a short metric label for a Verify error: "malformed",
// "too_large", "unknown_issuer", "algorithm", "unknown_key", "signature",
// "expired", "not_yet_valid", "iat_future", "audience", "no_keys", or
// "internal" for anything else (such as the caller's context ending). It
// returns "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "internal"
}
