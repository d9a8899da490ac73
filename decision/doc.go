// Package decision is idgate's authorization decision in plain Go: it finds
// the route, strips client-supplied identity headers, verifies the token,
// enriches and renders the identity. The Envoy and HTTP front ends only
// translate to and from its Request and Result.
package decision
