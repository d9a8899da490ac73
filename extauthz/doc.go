// Package extauthz is the Envoy edge: it translates envoy.service.auth.v3
// CheckRequests into decision.Requests and decision.Results back into
// CheckResponses, and records each decision through the decisionlog.Recorder
// it is given. The decision itself is plain Go in package decision.
package extauthz
