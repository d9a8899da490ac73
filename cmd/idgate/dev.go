package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/app"
	"github.com/idgate/idgate/internal/devtools/devidp"
)

// devAudience is the audience of tokens the development IdP mints.
const devAudience = "idgate-dev"

// devUser is who the development IdP says the sample token belongs to. The
// token carries only sub and email; name and groups come from userinfo, so
// `idgate dev` shows enrichment too.
var devUser = map[string]any{
	"sub": "dev-user-1", "email": "dev@example.com", "email_verified": true,
	"name": "Dev User", "given_name": "Dev", "family_name": "User",
	"preferred_username": "dev", "groups": []string{"developers", "admins"},
}

func runDev(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev")
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9001", "ext_authz gRPC listen address")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "HTTP listen address")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := config.Load("", environ)
	if err != nil {
		return err
	}
	cfg.Server.GRPCAddr, cfg.Server.HTTPAddr = *grpcAddr, *httpAddr
	cfg.Log.Format = "text"
	return serveDev(ctx, cfg, stdout, stderr)
}

// serveDev runs idgate against a development OIDC provider on loopback, for
// `idgate dev` only (serve refuses to start without an issuer): the
// provider's client secret is random per start and it listens on 127.0.0.1
// only.
func serveDev(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	idp, err := devidp.Start(devidp.Options{Addr: "127.0.0.1:0", ClientID: devAudience,
		ClientSecret: hex.EncodeToString(secret), DefaultUser: devUser})
	if err != nil {
		return err
	}
	defer idp.Close()
	idp.SetUserinfo("dev-user-1", devUser)
	cfg.Issuers = []config.Issuer{{Issuer: idp.Issuer(), Audiences: []string{devAudience},
		UserClaim: "email", GroupsClaim: "groups"}}
	if len(cfg.Routes) == 0 {
		cfg.Routes = []config.Route{{PathPrefix: "/healthz", Public: true}}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	log.Warn("idgate dev: using the built-in development IdP; never use this in production", "issuer", idp.Issuer())
	tok, err := idp.Mint(map[string]any{"sub": "dev-user-1", "email": "dev@example.com", "aud": devAudience},
		devidp.MintOptions{Alg: "RS256"})
	if err != nil {
		return err
	}
	return serveWith(ctx, cfg, log, func(a *app.App) {
		waitReady(ctx, a, log, 5*time.Second)
		printDevBanner(stdout, idp.Issuer(), a, tok)
	})
}

// waitReady gives the development IdP's keys up to limit to load, so the
// banner's sample token works at once; past it the banner is printed anyway,
// after a warning naming what is not ready.
func waitReady(ctx context.Context, a *app.App, log *slog.Logger, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := a.WaitReady(ctx); err != nil {
		log.Warn("idgate dev: starting before it is ready", "err", err)
	}
}

func printDevBanner(w io.Writer, issuer string, a *app.App, tok string) {
	self := "idgate"
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, "go-build") {
		self = "go run ./cmd/idgate"
	}
	fmt.Fprintf(w, `idgate is running with a development IdP (%s).
  ext_authz gRPC: %s   HTTP: http://%s (healthz, readyz, metrics, .well-known/jwks.json)

A sample token for dev@example.com (valid 1h):
%s

Try it:
  %s check --addr %s --path /api/v1/runs -H 'authorization: Bearer %s'
  %s check --addr %s --path /api/v1/runs -H 'kubeflow-userid: spoofed@example.com'
`, issuer, a.GRPCAddr(), a.HTTPAddr(), tok, self, a.GRPCAddr(), tok, self, a.GRPCAddr())
}
