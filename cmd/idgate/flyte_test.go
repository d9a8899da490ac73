package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
)

// Flyte 2's paths, as flyteorg/flyte mounts them (runs/setup.go) and
// flyte-sdk calls them (Connect: POST /<package>.<Service>/<Method>).
const (
	flyteOAuthMetadata = "/.well-known/oauth-authorization-server"
	flyteGetOAuth2     = "/flyteidl2.auth.AuthMetadataService/GetOAuth2Metadata"
	flyteGetClientCfg  = "/flyteidl2.auth.AuthMetadataService/GetPublicClientConfig"
	flyteCreateRun     = "/flyteidl2.workflow.RunService/CreateRun"
)

// declaredHeaders are the output headers the flyte tests declare: the
// oauth2-proxy ones Flyte's chart advises, and one outside every strip
// family, so only the declaration can be what strips it.
var declaredHeaders = map[string]bool{
	"x-auth-request-email": true, "x-auth-request-user": true, "x-auth-request-groups": true, "x-user-display": true,
}

const declaredYAML = `
outputs:
  headers:
    - {name: X-Auth-Request-Email, claim: email}
    - {name: x-auth-request-user, claim: preferred_username}
    - {name: x-auth-request-groups, claim: groups}
    - {name: x-user-display, claim: name}
`

// normal is the name a WSGI upstream reads a header as.
func normal(name string) string { return strings.ReplaceAll(strings.ToLower(name), "_", "-") }

// connectRequest is a CheckRequest as Envoy sends it for a Connect call.
func connectRequest(method, path string, headers []envoysim.Header) *authv3.CheckRequest {
	m := envoysim.CheckHeaders(headers)
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: method, Host: "flyte.example.com", Path: path, Headers: m},
	}}}
}

// TestDeclaredHeadersNeverSpoofable: client-sent copies of every declared
// header (any case, "_" for "-", several copies) never reach the upstream,
// on authenticated, public and preset routes, over gRPC and forward-auth;
// on an authenticated route each declared header arrives once, with the
// claim from the verified token merged with userinfo.
func TestDeclaredHeadersNeverSpoofable(t *testing.T) {
	idp := mustIdP(t)
	// name and preferred_username are only in userinfo (which idgate
	// calls when the token lacks email, name or groups): declared headers
	// see the merged profile, as the built-in ones do.
	idp.SetUserinfo("alice", map[string]any{"sub": "alice", "preferred_username": "alice", "name": "Alice Liddell"})
	idg := mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - {issuer: %s, audiences: [flyte]}
%s
routes:
  - {path_prefix: /healthz, public: true}
  - preset: flyte
`, idp.Issuer(), declaredYAML))
	idg.waitReady(t)
	tok := mustMint(t, idp, map[string]any{"sub": "alice", "aud": "flyte", "email": "alice@example.com", "email_verified": true,
		"groups": []string{"ml", "admins"}}, "RS256")
	want := map[string]string{"x-auth-request-email": "alice@example.com", "x-auth-request-user": "alice",
		"x-auth-request-groups": "admins,ml", "x-user-display": "Alice Liddell"}
	spoofed := []envoysim.Header{
		{Name: "X_Auth_Request_Email", Value: "root0@example.com"}, {Name: "X_Auth_Request_Email", Value: "root1@example.com"},
		{Name: "x-auth-request-email", Value: "root2@example.com"}, {Name: "X-Auth-Request-Email", Value: "root3@example.com"},
		{Name: "X-AUTH-REQUEST-USER", Value: "root"}, {Name: "x_auth_request_user", Value: "root"},
		{Name: "x-auth-request-groups", Value: "root-admins"},
		{Name: "X_User_Display", Value: "root"}, {Name: "x-user-display", Value: "root"}, {Name: "X-User-Display", Value: "root"},
	}
	tests := []struct {
		name, method, path string
		authenticated      bool
	}{
		{"authenticated", "POST", flyteCreateRun, true},
		{"public", "GET", "/healthz", false},
		{"preset", "POST", flyteGetOAuth2, false},
	}
	for _, tc := range tests {
		for _, envoyLike := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/envoy=%v", tc.name, envoyLike), func(t *testing.T) {
				req := append([]envoysim.Header{{Name: "content-type", Value: "application/proto"}}, spoofed...)
				if tc.authenticated {
					req = append(req, envoysim.Header{Name: "authorization", Value: "Bearer " + tok})
				}
				cr := connectRequest(tc.method, tc.path, req)
				if !envoyLike { // a client that keeps the letter case, one copy per spelling
					m := map[string]string{}
					for _, h := range req {
						m[h.Name] = h.Value
					}
					cr.Attributes.Request.Http.Headers = m
				}
				resp := check(t, idg, cr)
				if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
					t.Fatalf("denied: %v", resp.GetDeniedResponse())
				}
				for _, order := range []envoysim.Order{envoysim.SetThenRemove, envoysim.RemoveThenSet} {
					got := map[string][]string{}
					for _, h := range envoysim.Apply(req, resp.GetOkResponse(), order) {
						if n := normal(h.Name); declaredHeaders[n] {
							got[n] = append(got[n], h.Value)
						}
					}
					for n := range declaredHeaders {
						switch {
						case !tc.authenticated && len(got[n]) != 0:
							t.Fatalf("order %d: %s reached a public route's upstream: %q", order, n, got[n])
						case tc.authenticated && !slices.Equal(got[n], []string{want[n]}):
							t.Fatalf("order %d: upstream %s = %q, want exactly [%q]", order, n, got[n], want[n])
						}
					}
				}
			})
		}
	}

	t.Run("forward-auth", func(t *testing.T) {
		for _, authenticated := range []bool{true, false} {
			r, err := http.NewRequest("GET", "http://"+idg.httpAddr+"/authz", nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("X-Forwarded-Method", "POST")
			r.Header.Set("X-Forwarded-Host", "flyte.example.com")
			r.Header.Set("X-Forwarded-Uri", flyteCreateRun)
			r.Header["X_User_Display"] = []string{"root"}
			r.Header["X-Auth-Request-Email"] = []string{"root@example.com", "root2@example.com"}
			if authenticated {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !authenticated {
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("x-user-display") != "" {
					t.Fatalf("anonymous CreateRun: %d, x-user-display %q", resp.StatusCode, resp.Header.Get("x-user-display"))
				}
				continue
			}
			remove := strings.Split(resp.Header.Get("x-idgate-remove"), ",")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("x-user-display") != "Alice Liddell" ||
				resp.Header.Get("x-auth-request-email") != "alice@example.com" || !slices.Contains(remove, "x_user_display") {
				t.Fatalf("forward-auth: %d, x-user-display %q, email %q, remove %q", resp.StatusCode,
					resp.Header.Get("x-user-display"), resp.Header.Get("x-auth-request-email"), remove)
			}
		}
	})
}

// flyteIdentity is what Flyte's runs service derives executed_by from.
type flyteIdentity struct {
	Subject, Email, GivenName, FamilyName string
}

// decodeFlyteIdentity reads a claims-JWT header the way Flyte's runs
// service does (flyteorg/flyte runs/service/identity.go identityFromJWT,
// reimplemented here, not copied): three dot-separated segments, the
// payload base64url-decoded with or without padding, JSON decoded with Go's
// encoding/json, sub required. No signature, iss, aud or exp is checked:
// that is Flyte's behaviour, and why only idgate may set the header.
func decodeFlyteIdentity(tok string) (flyteIdentity, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return flyteIdentity{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		seg := parts[1]
		if pad := len(seg) % 4; pad != 0 {
			seg += strings.Repeat("=", 4-pad)
		}
		if payload, err = base64.URLEncoding.DecodeString(seg); err != nil {
			return flyteIdentity{}, false
		}
	}
	var c struct {
		Sub        string `json:"sub"`
		Email      string `json:"email"`
		GivenName  string `json:"given_name"`
		FamilyName string `json:"family_name"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Sub == "" {
		return flyteIdentity{}, false
	}
	return flyteIdentity{Subject: c.Sub, Email: c.Email, GivenName: c.GivenName, FamilyName: c.FamilyName}, true
}

// sdkLogin gets a token from the IdP as flyte-sdk's PKCE flow does: the
// authorize endpoint redirects to the local callback with a code, which is
// exchanged with the verifier at the token endpoint.
func sdkLogin(t *testing.T, idp *devidp.Provider, redirect string) string {
	t.Helper()
	var b [32]byte
	_, _ = rand.Read(b[:])
	verifier := base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {idp.ClientID()}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid offline_access"}, "state": {"s"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(idp.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest("POST", idp.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(idp.ClientID(), idp.ClientSecret())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

// TestFlyteSDKSequence walks flyte-sdk's sequence through idgate with the
// flyte preset: discovery without a token is allowed with no identity
// (and the client's identity headers stripped), then a PKCE login at the
// IdP, then CreateRun with the token carries an x-flyte-identity from which
// Flyte's own decoding gives the right executed_by; CreateRun without a
// token is 401, also with a forged x-flyte-identity.
func TestFlyteSDKSequence(t *testing.T) {
	const redirect = "http://localhost:53593/callback" // flyte-sdk's default
	idp, err := devidp.Start(devidp.Options{RedirectURLs: []string{redirect}, DefaultUser: map[string]any{
		"sub": "00u1alice", "email": "alice@example.com", "email_verified": true,
		"given_name": "Alice", "family_name": "Liddell", "groups": []string{"ml"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	idg := mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - {issuer: %s, audiences: [%s]}
routes:
  - preset: flyte
`, idp.Issuer(), idp.ClientID()))
	idg.waitReady(t)

	forged := "e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"root","email":"root@example.com"}`)) + ".AAAA"
	spoofs := []envoysim.Header{{Name: "X-Flyte-Identity", Value: forged}, {Name: "kubeflow-userid", Value: "root@example.com"},
		{Name: "x-amzn-oidc-data", Value: forged}, {Name: "X_Flyte_Identity", Value: forged}}
	identityHeaders := []string{"x-flyte-identity", "kubeflow-userid", "kubeflow-groups", "x-amzn-oidc-data"}

	// 1. Discovery, before any token, as flyte-sdk's RemoteClientConfigStore
	// (two Connect calls) and an RFC 8414 client do it.
	for _, step := range []struct{ method, path string }{
		{"GET", flyteOAuthMetadata},
		{"POST", flyteGetOAuth2},
		{"POST", flyteGetClientCfg},
		{"GET", flyteGetClientCfg + "?connect=v1&encoding=proto&message="},
	} {
		t.Run("discovery "+step.method+" "+step.path, func(t *testing.T) {
			req := append([]envoysim.Header{{Name: "content-type", Value: "application/proto"}, {Name: "connect-protocol-version", Value: "1"}}, spoofs...)
			resp := check(t, idg, connectRequest(step.method, step.path, req))
			if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
				t.Fatalf("denied: %v", resp.GetDeniedResponse())
			}
			if set := resp.GetOkResponse().GetHeaders(); len(set) != 0 {
				t.Fatalf("identity emitted on discovery: %v", set)
			}
			up := envoysim.Apply(req, resp.GetOkResponse(), envoysim.SetThenRemove)
			for _, h := range up {
				if slices.Contains(identityHeaders, normal(h.Name)) {
					t.Fatalf("client-sent %s reached upstream", h.Name)
				}
			}
		})
	}
	// What the preset leaves closed stays closed without a token.
	for _, step := range []struct{ method, path string }{
		{"POST", flyteOAuthMetadata},
		{"GET", flyteOAuthMetadata + "/x"},
		{"POST", "/flyteidl2.auth.AuthMetadataService/Other"},
		{"POST", "/flyteidl2.auth.IdentityService/UserInfo"},
	} {
		t.Run("closed "+step.method+" "+step.path, func(t *testing.T) {
			resp := check(t, idg, connectRequest(step.method, step.path, nil))
			if d := resp.GetDeniedResponse(); d == nil || d.GetStatus().GetCode() != 401 {
				t.Fatalf("got %v, want 401", resp.GetStatus())
			}
		})
	}

	// 2. The token, from the IdP the metadata points to.
	tok := sdkLogin(t, idp, redirect)

	// 3. CreateRun with it: one x-flyte-identity, idgate's, decoding to
	// the caller.
	t.Run("CreateRun with the token", func(t *testing.T) {
		req := append([]envoysim.Header{{Name: "content-type", Value: "application/proto"},
			{Name: "authorization", Value: "Bearer " + tok}}, spoofs...)
		resp := check(t, idg, connectRequest("POST", flyteCreateRun, req))
		if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
			t.Fatalf("denied: %v", resp.GetDeniedResponse())
		}
		for _, order := range []envoysim.Order{envoysim.SetThenRemove, envoysim.RemoveThenSet} {
			var flyte []string
			for _, h := range envoysim.Apply(req, resp.GetOkResponse(), order) {
				if normal(h.Name) == "x-flyte-identity" {
					flyte = append(flyte, h.Value)
				}
			}
			if len(flyte) != 1 {
				t.Fatalf("order %d: x-flyte-identity = %q, want one", order, flyte)
			}
			got, ok := decodeFlyteIdentity(flyte[0])
			want := flyteIdentity{Subject: "00u1alice", Email: "alice@example.com", GivenName: "Alice", FamilyName: "Liddell"}
			if !ok || got != want {
				t.Fatalf("order %d: executed_by = %+v, want %+v", order, got, want)
			}
		}
	})

	// 4. The same CreateRun without a token: 401, forged header or not.
	t.Run("CreateRun without a token", func(t *testing.T) {
		req := append([]envoysim.Header{{Name: "content-type", Value: "application/proto"}}, spoofs...)
		resp := check(t, idg, connectRequest("POST", flyteCreateRun, req))
		if d := resp.GetDeniedResponse(); d == nil || d.GetStatus().GetCode() != 401 {
			t.Fatalf("got %v, want 401", resp.GetStatus())
		}
	})
}

// TestShadowModeBesideOAuth2Proxy: in shadow mode the declared headers are
// compared with the ones the proxy being replaced (oauth2-proxy) sends,
// and the request is left as it is.
func TestShadowModeBesideOAuth2Proxy(t *testing.T) {
	idp := mustIdP(t)
	in := mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
mode: shadow
issuers:
  - {issuer: %s, audiences: [flyte], userinfo: false}
%s`, idp.Issuer(), declaredYAML))
	in.waitReady(t)
	tok := mustMint(t, idp, map[string]any{"sub": "u1", "aud": "flyte", "email": "u1@example.com", "email_verified": true}, "RS256")
	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"agrees", map[string]string{"authorization": "Bearer " + tok, "x-auth-request-email": "u1@example.com"}},
		{"differs", map[string]string{"authorization": "Bearer " + tok, "x-auth-request-email": "someone-else@example.com"}},
	} {
		resp := check(t, in, checkRequest("/api", tc.headers))
		ok := resp.GetOkResponse()
		if resp.GetStatus().GetCode() != 0 || len(ok.GetHeaders()) != 0 {
			t.Fatalf("%s: shadow mode set headers or denied the request: %v", tc.name, resp)
		}
		mustShadowStrip(t, tc.name, ok.GetHeadersToRemove(), "x-auth-request-email", "x-auth-request-user", "kubeflow-userid", "authorization")
	}
	if m := get(t, "http://"+in.httpAddr+"/metrics"); !strings.Contains(m, `idgate_shadow_mismatches_total{header="x-auth-request-email"} 1`) {
		t.Errorf("metrics lack the x-auth-request-email mismatch:\n%s", m)
	}
}
