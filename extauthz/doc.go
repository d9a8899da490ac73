// Package extauthz is the Envoy edge: it translates envoy.service.auth.v3
// CheckRequests into decision.Requests and decision.Results back into
// CheckResponses, logs one line per decision and records metrics. The
// decision itself is plain Go in package decision.
package extauthz
