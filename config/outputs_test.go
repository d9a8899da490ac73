package config

import (
	"slices"
	"strings"
	"testing"
)

// TestDeclaredHeadersLoad: outputs.headers loads from YAML and from
// IDGATE_OUTPUTS_HEADERS, names lower-cased, claims kept exactly; an
// issuer's custom user_claim is a claim a header may carry.
func TestDeclaredHeadersLoad(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []OutputHeader
	}{
		{
			name: "yaml",
			yaml: "outputs:\n  headers:\n    - {name: X-Auth-Request-Email, claim: email}\n    - {name: x-auth-request-groups, claim: groups}\n",
			want: []OutputHeader{{"x-auth-request-email", "email"}, {"x-auth-request-groups", "groups"}},
		},
		{
			name: "env",
			env:  []string{`IDGATE_OUTPUTS_HEADERS=[{"name":"X-Auth-Request-User","claim":"preferred_username"}]`},
			want: []OutputHeader{{"x-auth-request-user", "preferred_username"}},
		},
		{
			name: "an issuer's user_claim",
			yaml: minimalIssuer + "    user_claim: upn\noutputs: {headers: [{name: x-upn, claim: upn}]}\n",
			want: []OutputHeader{{"x-upn", "upn"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tc.yaml), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Outputs.Headers, tc.want) {
				t.Fatalf("outputs.headers = %+v, want %+v", c.Outputs.Headers, tc.want)
			}
			if r := c.Redacted(); !slices.Equal(r.Outputs.Headers, tc.want) {
				t.Fatalf("Redacted lost outputs.headers: %+v", r.Outputs.Headers)
			}
		})
	}
}
