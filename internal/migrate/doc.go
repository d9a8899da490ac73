// Package migrate turns an oauth2-proxy configuration (its config file,
// OAUTH2_PROXY_* environment and command-line flags) into an equivalent
// idgate config.yaml, saying for every setting it could not carry why.
package migrate
