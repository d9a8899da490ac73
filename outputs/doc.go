// Package outputs renders a verified identity into the request headers that
// upstreams trust: kubeflow-userid and kubeflow-groups for Kubeflow, and the
// signed x-flyte-identity claims JWT for Flyte. Every value it emits is safe
// to put in an HTTP header: no CR, LF or NUL, and non-ASCII percent-encoded.
package outputs
