// Package devidp is a small OpenID Connect provider served over loopback
// HTTP: discovery, a rotating JWKS, authorize/token (code + PKCE, refresh),
// userinfo and logout, with fault injection. Tests use it as a real IdP and
// `idgate dev` runs it as a local login.
package devidp
