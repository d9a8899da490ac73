package decision

import "testing"

// TestExactPathRoutes: an exact public route (as the Flyte preset makes)
// opens its one path for its methods, and nothing beneath it, in no other
// letter case, spelling or method.
func TestExactPathRoutes(t *testing.T) {
	e := mustEngine(t, []Route{
		{PathPrefix: "/.well-known/oauth-authorization-server", Methods: []string{"GET"}, Public: true, ExactPath: true},
		{PathPrefix: "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata", Methods: []string{"GET", "POST"}, Public: true, ExactPath: true},
	})
	tests := []struct {
		name, method, path, token string
		wantStatus                int
		wantRoute                 string
	}{
		{"the path", "GET", "/.well-known/oauth-authorization-server", "", 200, "/.well-known/oauth-authorization-server"},
		{"with a query", "GET", "/.well-known/oauth-authorization-server?x=1", "", 200, "/.well-known/oauth-authorization-server"},
		{"other method", "POST", "/.well-known/oauth-authorization-server", "", 401, "default"},
		{"trailing slash", "GET", "/.well-known/oauth-authorization-server/", "", 401, "default"},
		{"beneath it", "GET", "/.well-known/oauth-authorization-server/x", "", 401, "default"},
		{"longer name", "GET", "/.well-known/oauth-authorization-serverx", "", 401, "default"},
		{"letter case", "GET", "/.well-known/OAuth-Authorization-Server", "", 401, "default"},
		{"slash run", "GET", "/.well-known//oauth-authorization-server", "", 400, ""},
		{"encoded letter", "GET", "/.well-known/oauth%2Dauthorization-server", "", 400, ""},
		{"params", "GET", "/.well-known/oauth-authorization-server;x", "", 400, ""},
		{"connect POST", "POST", "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata", "", 200, "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata"},
		{"connect GET", "GET", "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata?connect=v1&encoding=proto&message=", "", 200, "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata"},
		{"another method of the service", "POST", "/flyteidl2.auth.AuthMetadataService/Other", "", 401, "default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantDecision(t, e, &Request{Method: tc.method, Host: "h", Path: tc.path}, tc.token, tc.wantStatus, tc.wantRoute)
		})
	}
}

// TestExactPathOnlyPublic: an exact route that is not public is refused:
// /a/ and /a/b, which many upstreams serve as /a, would fall to a weaker
// route.
func TestExactPathOnlyPublic(t *testing.T) {
	_, err := New(Config{Routes: []Route{{PathPrefix: "/admin", AllowGroups: []string{"admins"}, ExactPath: true}},
		Verifier: tableVerifier{}, Renderer: mustEngine(t, nil).cfg.Renderer})
	if err == nil {
		t.Fatal("New accepted an exact route that is not public")
	}
}
