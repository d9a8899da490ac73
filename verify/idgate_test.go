package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/app"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/signing"
	"github.com/idgate/idgate/verify"
)

// idgate is a real idgate (internal/app) on loopback port 0, trusting a
// development IdP, on a test clock.
type idgate struct {
	app    *app.App
	idp    *devidp.Provider
	client authv3.AuthorizationClient
	key    *signing.Key // the signing key, when the test wrote the key file
}

// mustIdgate starts idgate. withKeyFile writes a signing key file the test
// keeps, so it can sign tokens with idgate's own key and kid.
func mustIdgate(t testing.TB, clk *testclock.Clock, withKeyFile bool) *idgate {
	t.Helper()
	idp, err := devidp.Start(devidp.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	g := &idgate{idp: idp}
	keyFile := ""
	if withKeyFile {
		keyFile = mustKeyFile(t)
		if g.key, err = signing.New(signing.Config{KeyFile: keyFile}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0"}
issuers: [{issuer: %q, audiences: [flyte], userinfo: false}]
signing: {key_file: %q}
`, idp.Issuer(), keyFile)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.app, err = app.New(cfg, app.Options{Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	if err := g.app.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.app.Shutdown(context.Background()) })
	wait.For(t, "idgate ready", g.app.Ready)
	conn, err := grpc.NewClient(g.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g.client = authv3.NewAuthorizationClient(conn)
	return g
}

func mustKeyFile(t testing.TB) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// alice is the user the IdP vouches for.
var alice = map[string]any{
	"sub": "alice", "aud": "flyte", "email": "alice@example.com", "email_verified": true,
	"name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
	"preferred_username": "alice", "groups": []string{"admins", "ml"},
}

// flyteIdentity sends a Check for a request bearing an IdP token with
// claims over gRPC and returns the x-flyte-identity idgate signed.
func (g *idgate) flyteIdentity(t testing.TB, claims map[string]any) string {
	t.Helper()
	tok, err := g.idp.Mint(claims, devidp.MintOptions{Alg: "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := g.client.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Host: "runs.example.com", Path: "/api/v1/runs", Headers: map[string]string{
				":authority": "runs.example.com", ":method": "GET", ":path": "/api/v1/runs",
				"authorization": "Bearer " + tok, "x-flyte-identity": "spoofed",
			}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Fatalf("Check denied: %v", resp.GetDeniedResponse())
	}
	for _, h := range resp.GetOkResponse().GetHeaders() {
		if strings.EqualFold(h.GetHeader().GetKey(), "x-flyte-identity") {
			return h.GetHeader().GetValue()
		}
	}
	t.Fatalf("no x-flyte-identity in %v", resp.GetOkResponse())
	return ""
}

// jwksURL is idgate's published key set.
func (g *idgate) jwksURL() string { return "http://" + g.app.HTTPAddr() + "/.well-known/jwks.json" }

// mustVerifier builds a Verifier of g's identity for audience flyte on clk.
func mustVerifier(t testing.TB, jwksURL string, clk *testclock.Clock, edit func(*verify.Config)) *verify.Verifier {
	t.Helper()
	cfg := verify.Config{JWKSURL: jwksURL, Issuer: "idgate", Audience: "flyte", Now: clk.Now}
	if edit != nil {
		edit(&cfg)
	}
	v, err := verify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
