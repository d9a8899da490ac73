// Package jwks verifies bearer JWTs against the signing keys that configured
// OpenID Connect issuers publish, refreshing those keys in the background and
// turning a verified token into an identity.Identity. Cheap claim checks come
// before any key work, and verified tokens are cached until they expire;
// idgate's own parser and algorithm rules decide, jwx/v2 checks signatures.
package jwks
