package app

import (
	"context"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/devtools/devidp"
)

// TestEmailIdentityRules runs the issuers' email rules end to end: two real
// IdPs (a corporate one owning corp.com, a self-registration one with its
// own user id prefix), userinfo over HTTP, Checks over gRPC. An email the
// IdP marks unverified, from the token or from userinfo, or in a domain its
// issuer may not assert, is never a kubeflow-userid.
func TestEmailIdentityRules(t *testing.T) {
	corp, social := mustIdP(t, devidp.Options{}), mustIdP(t, devidp.Options{})
	prefix := "social:"
	cfg := loopbackConfig(corp)
	cfg.Issuers = []config.Issuer{
		{Issuer: corp.Issuer(), Audiences: []string{"kubeflow"}, UserClaim: "email", GroupsClaim: "groups",
			EmailVerified: config.EmailVerifiedIfPresent, EmailDomains: []string{"corp.com"}},
		{Issuer: social.Issuer(), Audiences: []string{"kubeflow"}, UserClaim: "email", GroupsClaim: "groups",
			EmailVerified: config.EmailVerifiedIfPresent, UserIDPrefix: &prefix},
	}
	a := mustStart(t, cfg, Options{})
	mustReady(t, a)
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := authv3.NewAuthorizationClient(conn)

	corp.SetUserinfo("from-userinfo", map[string]any{"email": "ceo@corp.com", "email_verified": false})
	corp.SetUserinfo("case-variant", map[string]any{"EMAIL": "ceo@corp.com", "Email_Verified": true})
	tests := []struct {
		name       string
		idp        *devidp.Provider
		claims     map[string]any
		wantStatus int // 200 allowed
		wantUser   string
	}{
		{"verified corporate email", corp, map[string]any{"sub": "ceo", "email": "ceo@corp.com", "email_verified": true}, 200, "ceo@corp.com"},
		{"email_verified false", corp, map[string]any{"sub": "mallory", "email": "ceo@corp.com", "email_verified": false}, 403, ""},
		{"email_verified string false", corp, map[string]any{"sub": "mallory", "email": "ceo@corp.com", "email_verified": "false"}, 403, ""},
		{"unverified email from userinfo", corp, map[string]any{"sub": "from-userinfo"}, 403, ""},
		{"corporate IdP asserting another domain", corp, map[string]any{"sub": "x", "email": "x@gmail.com", "email_verified": true}, 403, ""},
		{"case-variant claims are not email", corp, map[string]any{"sub": "case-variant", "EMAIL": "ceo@corp.com"}, 200, ""},
		{"same email from the social IdP is another user", social, map[string]any{"sub": "s", "email": "ceo@corp.com", "email_verified": true}, 200, "social:ceo@corp.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"aud": "kubeflow"}
			for k, v := range tc.claims {
				claims[k] = v
			}
			if _, ok := claims["email"]; !ok {
				claims["email"] = nil
			}
			tok, err := tc.idp.Mint(claims, devidp.MintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := client.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
				Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Host: "kfp", Path: "/pipeline/apis/v2beta1/runs",
					Headers: map[string]string{"authorization": "Bearer " + tok, "kubeflow-userid": "ceo@corp.com"}},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			status, user := 200, ""
			if d := resp.GetDeniedResponse(); d != nil {
				status = int(d.GetStatus().GetCode())
			}
			for _, h := range resp.GetOkResponse().GetHeaders() {
				if h.GetHeader().GetKey() == "kubeflow-userid" {
					user = h.GetHeader().GetValue()
				}
			}
			if status != tc.wantStatus || user != tc.wantUser {
				t.Fatalf("got %d user %q, want %d user %q", status, user, tc.wantStatus, tc.wantUser)
			}
		})
	}
}
