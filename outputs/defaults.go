package outputs

import "time"

// DefaultConfig returns the default header names and Flyte token claims;
// idgate's configuration (outputs.*, signing.issuer) starts from it, so
// these defaults have one owner. IssuerUserIDPrefix, ALB, Headers and Now
// are the caller's.
func DefaultConfig() Config {
	return Config{
		UserIDHeader:  "kubeflow-userid",
		GroupsHeader:  "kubeflow-groups",
		FlyteHeader:   "x-flyte-identity",
		FlyteAudience: "flyte",
		FlyteTTL:      5 * time.Minute,
		Issuer:        "idgate",
		CacheSize:     10000,
	}
}
