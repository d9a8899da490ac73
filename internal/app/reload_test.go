package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/devtools/devidp"
)

func publicCheck(path string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Host: "h", Path: path, Headers: map[string]string{}},
	}}}
}

func TestReload(t *testing.T) {
	a, idp := mustOpenApp(t)
	ctx := context.Background()
	warm := warmRequest(t, idp)
	keyBefore := string(a.cur.Load().key.JWKS())

	// Checks keep flowing, each answered wholly by one configuration.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				resp, err := a.authz.Check(ctx, warm)
				if err != nil || resp.GetStatus().GetCode() != 0 {
					failures.Add(1)
				}
			}
		}()
	}

	next := *a.cfg
	next.Routes = []config.Route{{PathPrefix: "/docs", Public: true}}
	if err := a.Reload(ctx, &next); err != nil {
		t.Fatal(err)
	}
	if resp, _ := a.authz.Check(ctx, publicCheck("/docs")); resp.GetStatus().GetCode() != 0 {
		t.Fatal("the reloaded route is not in force")
	}

	// A new issuer that cannot be reached is refused; the old one serves on.
	other, _ := devidp.Start(devidp.Options{})
	unreachable := other.Issuer()
	other.Close()
	bad := next
	bad.Issuers = append([]config.Issuer{}, next.Issuers...)
	bad.Issuers = append(bad.Issuers, config.Issuer{Issuer: unreachable, Audiences: []string{"x"}, UserClaim: "email", GroupsClaim: "groups"})
	wantErr := "issuers[1]: issuer " + unreachable + ": keys not loaded: " // which key, which issuer, then why
	if err := a.Reload(ctx, &bad); err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("reload with an unreachable issuer: %v", err)
	}
	if resp, _ := a.authz.Check(ctx, publicCheck("/docs")); resp.GetStatus().GetCode() != 0 {
		t.Fatal("a refused reload changed the configuration")
	}
	stop.Store(true)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d Checks failed during reloads", n)
	}
	if string(a.cur.Load().key.JWKS()) != keyBefore {
		t.Fatal("reload changed the signing key though signing.key_file did not change")
	}
	families, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, f := range families {
		if f.GetName() == "idgate_jwks_keys" {
			series += len(f.GetMetric())
		}
	}
	if series != 1 {
		t.Fatalf("idgate_jwks_keys series after reloads = %d, want 1", series)
	}
	resp, err := http.Get("http://" + a.HTTPAddr() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz after reloads: %v %v", resp, err)
	}
	resp.Body.Close()
}
