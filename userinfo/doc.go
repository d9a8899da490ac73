// Package userinfo completes a verified identity from the issuer's OIDC
// userinfo endpoint, once per subject across concurrent requests (and, with
// a shared cache that leases, across replicas), and caches the result (or
// the failure, briefly) in a shared Cache. Enrichment fails soft: a failure
// is reported as a degraded reason, never as an error.
package userinfo
