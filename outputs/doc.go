// Package outputs renders a verified identity into the request headers that
// upstreams trust: kubeflow-userid and kubeflow-groups for Kubeflow, the
// signed x-flyte-identity claims JWT for Flyte, ALB's x-amzn-oidc-*, and
// the plain headers an operator declares, all entries of one table. Every
// value it emits is safe to put in an HTTP header: no CR, LF or NUL, and
// non-ASCII percent-encoded.
package outputs
