package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/devtools/devidp"
)

// mustIdP starts a development IdP with opts, closed when the test ends.
func mustIdP(tb testing.TB, opts devidp.Options) *devidp.Provider {
	tb.Helper()
	p, err := devidp.Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// loopbackConfig is the default configuration on loopback ports with idp
// as its one issuer (audience kubeflow, user claim email, groups claim
// groups).
func loopbackConfig(idp *devidp.Provider) *config.Config {
	cfg := config.Default()
	cfg.Server.GRPCAddr, cfg.Server.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Issuers = []config.Issuer{{Issuer: idp.Issuer(), Audiences: []string{"kubeflow"}, UserClaim: "email", GroupsClaim: "groups"}}
	return cfg
}

// mustParse loads yaml through the real config package, env as the
// process environment, on loopback ports with idp as its first issuer
// (audience kubeflow).
func mustParse(tb testing.TB, idp *devidp.Provider, yaml string, env []string) *config.Config {
	tb.Helper()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(
		"server: {grpc_addr: '127.0.0.1:0', http_addr: '127.0.0.1:0'}\nissuers: [{issuer: %q, audiences: [kubeflow]}]\n",
		idp.Issuer())+yaml), env)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// mustStart validates cfg, opens an App on it with opts and shuts it down
// when the test ends. It does not wait for readiness.
func mustStart(tb testing.TB, cfg *config.Config, opts Options) *App {
	tb.Helper()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	a, err := New(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a
}
