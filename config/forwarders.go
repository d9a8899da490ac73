package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idgate/idgate/decision"
)

// TrustedForwarder is a workload whose requests may carry identity headers
// it was given (Kubeflow's ml-pipeline-ui, centraldashboard), recognised
// only by the mTLS peer identity Envoy reports (source.principal).
type TrustedForwarder struct {
	// Principal is the peer identity exactly as Envoy reports it; under
	// Istio spiffe://<trust domain>/ns/<namespace>/sa/<service account>.
	// Required, no wildcards.
	Principal string `mapstructure:"principal"`
	// Headers are the identity headers this peer may pass on unchanged
	// when its request has no bearer token (one value each); only headers
	// idgate strips. Required; stored lower-case.
	Headers []string `mapstructure:"headers"`
}

// validateForwarders checks trusted_forwarders: a principal once each,
// no wildcard, and only identity headers idgate knows.
func (c *Config) validateForwarders(p *problems) {
	known := append(decision.IdentityHeaders(), c.Outputs.Kubeflow.UserIDHeader, c.Outputs.Kubeflow.GroupsHeader, c.Outputs.Flyte.Header)
	for i, f := range c.TrustedForwarders {
		k := fmt.Sprintf("trusted_forwarders[%d]", i)
		switch {
		case f.Principal == "":
			p.addf(k+".principal", "required")
		case strings.ContainsAny(f.Principal, "* \t\r\n"):
			p.addf(k+".principal", "must be one exact principal (no wildcard, no space)")
		}
		checkUnique(p, "trusted_forwarders", "principal", i, func(j int) string { return c.TrustedForwarders[j].Principal })
		if len(f.Headers) == 0 {
			p.addf(k+".headers", "required")
		}
		for j, h := range f.Headers {
			if !slices.Contains(known, h) {
				p.addf(fmt.Sprintf("%s.headers[%d]", k, j), "%q is not an identity header idgate strips (%s)", h, strings.Join(known, ", "))
			}
		}
	}
}

// lowerForwarders lower-cases the forwarded header names.
func (c *Config) lowerForwarders() {
	for i := range c.TrustedForwarders {
		mapAll(c.TrustedForwarders[i].Headers, strings.ToLower)
	}
}
