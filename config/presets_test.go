package config

import (
	"slices"
	"strings"
	"testing"
)

// TestRoutePresetExpansion: a preset entry becomes its public routes at
// the place it was written, with exact paths and methods, restricted to the
// entry's hosts; the routes around it keep their order.
func TestRoutePresetExpansion(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []Route
	}{
		{
			name: "flyte between two routes",
			yaml: "routes:\n  - {path_prefix: /healthz, public: true}\n  - preset: flyte\n  - {path_prefix: /admin, allow_groups: [admins]}\n",
			want: []Route{
				{PathPrefix: "/healthz", Public: true},
				{PathPrefix: "/.well-known/oauth-authorization-server", Methods: []string{"GET"}, Public: true, ExactPath: true},
				{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true},
				{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetPublicClientConfig", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true},
				{PathPrefix: "/admin", AllowGroups: []string{"admins"}},
			},
		},
		{
			name: "hosts apply to every route, lower-cased",
			yaml: "routes: [{preset: flyte, hosts: [Flyte.Example.com]}]\n",
			want: []Route{
				{PathPrefix: "/.well-known/oauth-authorization-server", Methods: []string{"GET"}, Public: true, ExactPath: true, Hosts: []string{"flyte.example.com"}},
				{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true, Hosts: []string{"flyte.example.com"}},
				{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetPublicClientConfig", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true, Hosts: []string{"flyte.example.com"}},
			},
		},
		{
			name: "from the environment",
			env:  []string{`IDGATE_ROUTES=[{"preset":"flyte1"}]`},
			want: []Route{
				{PathPrefix: "/.well-known/oauth-authorization-server", Methods: []string{"GET"}, Public: true, ExactPath: true},
				{PathPrefix: "/config/v1/flyte_client", Methods: []string{"GET"}, Public: true, ExactPath: true},
				{PathPrefix: "/flyteidl.service.AuthMetadataService/GetOAuth2Metadata", Methods: []string{"POST"}, Public: true, ExactPath: true},
				{PathPrefix: "/flyteidl.service.AuthMetadataService/GetPublicClientConfig", Methods: []string{"POST"}, Public: true, ExactPath: true},
				{PathPrefix: "/healthcheck", Methods: []string{"GET"}, Public: true, ExactPath: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tc.yaml), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !sameRoutes(c.Routes, tc.want) {
				t.Fatalf("routes =\n%+v\nwant\n%+v", c.Routes, tc.want)
			}
		})
	}
}

// TestRoutePresetsArePublicExactAndValid: every preset route is public,
// exact, restricted by method, and would pass validation as written.
func TestRoutePresetsArePublicExactAndValid(t *testing.T) {
	for _, name := range RoutePresets() {
		t.Run(name, func(t *testing.T) {
			for i, r := range ExpandRoutes([]Route{{Preset: name}}) {
				var p problems
				r.validate(&p, "preset")
				if err := p.err(); err != nil {
					t.Errorf("route %d: %v", i, err)
				}
				if !r.Public || !r.ExactPath || len(r.Methods) == 0 || len(r.AllowGroups) > 0 || strings.HasSuffix(r.PathPrefix, "/") {
					t.Errorf("route %d = %+v: want public, method-restricted, no trailing slash", i, r)
				}
			}
		})
	}
}

// TestExpandRoutesDoesNotShare: expanded routes do not alias the preset
// table, so a caller editing them cannot change the next expansion.
func TestExpandRoutesDoesNotShare(t *testing.T) {
	first := ExpandRoutes([]Route{{Preset: "flyte"}})
	first[0].Methods[0] = "DELETE"
	if again := ExpandRoutes([]Route{{Preset: "flyte"}}); again[0].Methods[0] != "GET" {
		t.Fatalf("preset table changed through an expansion: %+v", again[0])
	}
}

func sameRoutes(a, b []Route) bool {
	return slices.EqualFunc(a, b, func(x, y Route) bool {
		return x.Preset == y.Preset && x.PathPrefix == y.PathPrefix && x.Public == y.Public && x.ExactPath == y.ExactPath &&
			slices.Equal(x.Methods, y.Methods) && slices.Equal(x.Hosts, y.Hosts) &&
			slices.Equal(x.AllowGroups, y.AllowGroups) && x.Mode == y.Mode
	})
}
