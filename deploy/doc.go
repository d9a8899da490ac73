// Package deploy holds no code: its tests keep the deployment shapes in this
// folder (Envoy, Istio, Kubernetes, nginx, monitoring) and the root Dockerfile honest by
// decoding every file strictly into the real API types and building them.
package deploy
