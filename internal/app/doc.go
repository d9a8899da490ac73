// Package app assembles idgate from its configuration: it is the one place
// that knows every component (verifier, profile cache, userinfo, signing key,
// header renderer, decision engine, gRPC and HTTP front ends) and wires them.
package app
