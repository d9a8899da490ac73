// Package session stores browser login sessions and short-lived login state
// server-side, in Redis or in a bounded in-process store. The browser holds
// only an HMAC-signed random id; tokens are encrypted at rest.
package session
