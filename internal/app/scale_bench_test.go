package app

import (
	"context"
	"fmt"
	"testing"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/devtools/devidp"
)

// scaleRoutes is a route table of n rules, each for its own service
// prefix, alternately restricted to hosts and to methods; the warm
// request's route (/api) comes last, where a linear scan pays most.
func scaleRoutes(n int) []config.Route {
	routes := make([]config.Route, 0, n)
	for i := 0; i < n-1; i++ {
		r := config.Route{PathPrefix: fmt.Sprintf("/svc%d", i), AllowGroups: []string{"ml"}}
		if i%2 == 0 {
			r.Hosts = []string{fmt.Sprintf("h%d.example.com", i), "runs"}
		} else {
			r.Methods = []string{"GET", "POST"}
		}
		routes = append(routes, r)
	}
	return append(routes, config.Route{PathPrefix: "/api", AllowGroups: []string{"ml"}, Hosts: []string{"runs"}, Methods: []string{"GET"}})
}

// BenchmarkCheckWarmScale is BenchmarkCheckWarm as the configuration
// grows: 1, 100 and 1,000 routes (host and method filters), 1 and 20
// issuers, 0 and 50 extra strip headers. Its cost should not grow.
func BenchmarkCheckWarmScale(b *testing.B) {
	for _, tc := range []struct{ routes, issuers, strip int }{
		{1, 1, 0}, {100, 1, 0}, {1000, 1, 0}, {1, 20, 0}, {1, 1, 50}, {1000, 20, 50},
	} {
		b.Run(fmt.Sprintf("routes=%d/issuers=%d/strip=%d", tc.routes, tc.issuers, tc.strip), func(b *testing.B) {
			a, idp := mustOpenAppScaled(b, tc.routes, tc.issuers, tc.strip)
			req := warmRequest(b, idp)
			ctx := context.Background()
			if resp, err := a.authz.Check(ctx, req); err != nil || resp.GetOkResponse() == nil {
				b.Fatal(err, resp.GetStatus())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				resp, err := a.authz.Check(ctx, req)
				if err != nil || resp.GetStatus().GetCode() != 0 {
					b.Fatal(err, resp.GetStatus())
				}
			}
		})
	}
}

// mustOpenAppScaled is mustOpenApp with routes routes, issuers issuers
// (the warm token's first; the others are more development IdPs) and
// strip extra strip headers.
func mustOpenAppScaled(tb testing.TB, routes, issuers, strip int) (*App, *devidp.Provider) {
	tb.Helper()
	extra := make([]config.Issuer, 0, issuers-1)
	for i := 1; i < issuers; i++ {
		p, err := devidp.Start(devidp.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { p.Close() })
		extra = append(extra, config.Issuer{Issuer: p.Issuer(), Audiences: []string{"kubeflow"}, UserClaim: "email", GroupsClaim: "groups"})
	}
	return mustOpenAppWith(tb, func(c *config.Config) {
		f := false
		c.Issuers[0].Userinfo = &f
		for i := range extra {
			extra[i].Userinfo = &f
		}
		c.Issuers = append(c.Issuers, extra...)
		c.Routes = scaleRoutes(routes)
		for i := 0; i < strip; i++ {
			c.Outputs.StripHeaders = append(c.Outputs.StripHeaders, fmt.Sprintf("x-extra-identity-%d", i))
		}
	})
}
