package config

import (
	"fmt"
	"slices"
	"sort"
)

// routePresets are the route lists a `routes` entry `{preset: <name>}`
// stands for. Each is the set of paths an application's clients must reach
// before they hold a token, as public routes with exact paths and method
// filters (exact_path: no path beneath them): nothing else of the
// application becomes public. Read from the
// application's source, not guessed; see each entry.
var routePresets = map[string][]Route{
	// Flyte 2 (flyteorg/flyte v2): runs/setup.go mounts the RFC 8414
	// document (GET only, OAuth2MetadataHTTPHandler) and the Connect
	// AuthMetadataService, "anonymously accessible" per
	// flyteidl2/auth/auth_service.proto. flyte-sdk's RemoteClientConfigStore
	// calls both RPCs before login (Connect: POST, or GET for these
	// NO_SIDE_EFFECTS methods). Flyte 2 serves no openid-configuration,
	// healthcheck or config endpoint of its own to clients.
	"flyte": {
		{PathPrefix: "/.well-known/oauth-authorization-server", Methods: []string{"GET"}, Public: true, ExactPath: true},
		{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true},
		{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetPublicClientConfig", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true},
	},
	// Flyte 1 (flyteadmin, pyflyte/flytekit): flyteidl/service/auth.proto
	// serves AuthMetadataService over gRPC (POST) and grpc-gateway (GET
	// /.well-known/oauth-authorization-server, GET /config/v1/flyte_client);
	// flyteadmin/pkg/server/service.go answers GET /healthcheck.
	"flyte1": {
		{PathPrefix: "/.well-known/oauth-authorization-server", Methods: []string{"GET"}, Public: true, ExactPath: true},
		{PathPrefix: "/config/v1/flyte_client", Methods: []string{"GET"}, Public: true, ExactPath: true},
		{PathPrefix: "/flyteidl.service.AuthMetadataService/GetOAuth2Metadata", Methods: []string{"POST"}, Public: true, ExactPath: true},
		{PathPrefix: "/flyteidl.service.AuthMetadataService/GetPublicClientConfig", Methods: []string{"POST"}, Public: true, ExactPath: true},
		{PathPrefix: "/healthcheck", Methods: []string{"GET"}, Public: true, ExactPath: true},
	},
}

// RoutePresets lists the preset names, sorted.
func RoutePresets() []string {
	names := make([]string, 0, len(routePresets))
	for n := range routePresets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ExpandRoutes returns routes with every `preset` entry replaced, in place,
// by its preset's routes, each restricted to the entry's hosts when it sets
// any; first-match order is as written. Entries that are not presets are
// kept as they are, and a list without presets is returned unchanged. An
// unknown preset is left for [Config.Validate] to report. [Load] expands
// after validating; a caller holding a Config built in code expands too.
func ExpandRoutes(routes []Route) []Route {
	if !slices.ContainsFunc(routes, func(r Route) bool { return r.Preset != "" }) {
		return routes
	}
	out := make([]Route, 0, len(routes)+4)
	for _, r := range routes {
		preset, ok := routePresets[r.Preset]
		if r.Preset == "" || !ok {
			out = append(out, r)
			continue
		}
		for _, p := range preset {
			p.Methods = slices.Clone(p.Methods)
			p.Hosts = slices.Clone(r.Hosts)
			out = append(out, p)
		}
	}
	return out
}

// validatePreset checks a `preset` entry: a known name, and no key but
// hosts beside it (a preset's routes are public by design; a rule of one's
// own is a separate route).
func (r Route) validatePreset(p *problems, k string) {
	if _, ok := routePresets[r.Preset]; !ok {
		p.addf(k+".preset", "unknown preset %s (known: %v)", safeQuote(r.Preset), RoutePresets())
	}
	if r.PathPrefix != "" || r.Public || r.ExactPath || len(r.AllowGroups) > 0 || len(r.AllowEmailDomains) > 0 ||
		len(r.Methods) > 0 || r.Mode != "" || r.ALBAccessToken != nil || r.AllowEncodedSlashes {
		p.addf(k+".preset", "cannot be combined with keys other than hosts")
	}
	for j, h := range r.Hosts {
		if !validHost(h) {
			p.addf(fmt.Sprintf("%s.hosts[%d]", k, j), "invalid host %s", safeQuote(h))
		}
	}
}
