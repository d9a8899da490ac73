// Package login is idgate's browser login, a replacement for an ALB's
// authenticate-oidc: authorization code with PKCE (the OAuth 2.0 protocol
// through golang.org/x/oauth2, see tokens.go), then a server-side session
// named by a cookie. It answers only with plain responses (302s, small HTML
// pages) so ext_authz can deliver them as denied responses.
package login
