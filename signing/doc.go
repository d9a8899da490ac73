// Package signing holds idgate's own EC P-256 key: it signs the identity
// tokens idgate hands to upstreams (x-flyte-identity, x-amzn-oidc-data) with
// jwx/v2 and publishes the public half so those upstreams can verify them.
package signing
