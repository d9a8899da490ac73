// Package verify lets a service behind idgate (Flyte, Kubeflow Pipelines, any
// Go upstream) check idgate's signed identity header instead of trusting it,
// so a request that reaches the service without passing idgate carries no
// identity. It depends on nothing else of idgate: the standard library,
// lestrrat-go/jwx/v2 and gRPC only.
package verify
