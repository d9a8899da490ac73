// Package identity is idgate's shared vocabulary: the verified caller that the
// verifier produces, the enrichers complete and the header writers render. It
// imports nothing else of idgate's so every other package can depend on it.
package identity
