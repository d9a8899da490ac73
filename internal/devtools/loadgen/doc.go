// Package loadgen drives an Envoy ext_authz gRPC server with real
// CheckRequests from concurrent workers and reports throughput, latency
// percentiles and, when it can read the server's CPU time, CPU per Check.
package loadgen
