// Package forwardauth is the HTTP edge for proxies that ask an HTTP endpoint
// instead of speaking ext_authz gRPC: nginx auth_request, Traefik
// forwardAuth and Envoy's http_service. It runs the same decision and
// answers with the identity in response headers.
package forwardauth
