package app

import (
	"context"
	"testing"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/jwks"
)

// TestLoginEndpointsOverrideDiscovery: login.authorization_endpoint and
// login.token_endpoint replace what discovery says, each on its own; the
// rest (end_session, scopes_supported) still comes from discovery.
func TestLoginEndpointsOverrideDiscovery(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	jc := jwks.DefaultConfig()
	jc.Issuers = []jwks.IssuerConfig{{Issuer: idp.Issuer(), Audiences: []string{"a"}}}
	v, err := jwks.New(jc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	v.Start(context.Background())
	wait.For(t, "discovery", func() bool { _, ok := v.Metadata(idp.Issuer()); return ok })
	tests := []struct {
		name            string
		auth, token     string
		wantAuth, wantT string
	}{
		{name: "discovery", wantAuth: idp.Issuer() + "/authorize", wantT: idp.Issuer() + "/token"},
		{name: "authorization path", auth: "/dex/auth", wantAuth: "/dex/auth", wantT: idp.Issuer() + "/token"},
		{name: "token endpoint", token: "http://127.0.0.1:1/other/token", wantAuth: idp.Issuer() + "/authorize", wantT: "http://127.0.0.1:1/other/token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eps, ok := loginEndpoints(v, config.Login{Issuer: idp.Issuer(), AuthorizationEndpoint: tc.auth, TokenEndpoint: tc.token})()
			if !ok || eps.Authorization != tc.wantAuth || eps.Token != tc.wantT || eps.EndSession != idp.Issuer()+"/logout" || len(eps.ScopesSupported) == 0 {
				t.Fatalf("endpoints = %+v, %v", eps, ok)
			}
		})
	}
	if _, ok := loginEndpoints(v, config.Login{Issuer: "https://unknown.example"})(); ok {
		t.Fatal("endpoints known for an issuer without discovery nor overrides")
	}
}
