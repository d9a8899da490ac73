package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestReadyzNamesTheUnreadyIssuer: with an issuer's JWKS answering 503,
// /readyz is 503 and says which issuer and why, and the process log has
// one warning for the failing fetches; once the IdP recovers, /readyz is
// 200 and the recovery is logged.
func TestReadyzNamesTheUnreadyIssuer(t *testing.T) {
	var logs testlog.Buffer
	a, idp := mustStartKeysDown(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	wait.For(t, "a failed key fetch", func() bool { return idp.JWKSCalls() >= 2 })
	status, body := getReadyz(t, a)
	want := "not ready: issuer " + idp.Issuer() + ": keys not loaded: fetch " + idp.Issuer() + "/jwks: status 503\n"
	if status != http.StatusServiceUnavailable || body != want {
		t.Errorf("readyz = %d %q\nwant 503 %q", status, body, want)
	}
	if n := strings.Count(logs.String(), `"msg":"jwks: key fetch failed"`); n != 1 {
		t.Errorf("%d key-fetch warnings for one outage, want 1:\n%s", n, logs.String())
	}

	idp.SetFault("jwks", devidp.Fault{})
	wait.For(t, "ready", a.Ready)
	if status, body := getReadyz(t, a); status != http.StatusOK || body != "ready\n" {
		t.Errorf("readyz after recovery = %d %q", status, body)
	}
	if !strings.Contains(logs.String(), `"msg":"jwks: keys of `+idp.Issuer()+` fetched again after `) {
		t.Errorf("no recovery line:\n%s", logs.String())
	}
}

// mustStartKeysDown starts an App (userinfo off) whose one issuer's JWKS
// answers 503 until the test clears the fault.
func mustStartKeysDown(t *testing.T, opts Options) (*App, *devidp.Provider) {
	t.Helper()
	idp := mustIdP(t, devidp.Options{})
	idp.SetFault("jwks", devidp.Fault{Status: http.StatusServiceUnavailable})
	cfg := loopbackConfig(idp)
	f := false
	cfg.Issuers[0].Userinfo = &f
	return mustStart(t, cfg, opts), idp
}

func getReadyz(t *testing.T, a *App) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + a.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWaitReady: WaitReady returns once the keys load; before that, when
// its context ends, it names the issuer not ready and why; once Shutdown
// has begun it returns at once, whatever its context.
func TestWaitReady(t *testing.T) {
	a, idp := mustStartKeysDown(t, Options{})

	t.Run("context ends first", func(t *testing.T) {
		wait.For(t, "a failed key fetch", func() bool { return idp.JWKSCalls() >= 1 })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := a.WaitReady(ctx)
		want := "issuer " + idp.Issuer() + ": keys not loaded: fetch " + idp.Issuer() + "/jwks: status 503"
		if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), want) {
			t.Fatalf("WaitReady = %v, want %q and context.Canceled", err, want)
		}
	})
	t.Run("keys load", func(t *testing.T) {
		idp.SetFault("jwks", devidp.Fault{})
		ctx, cancel := context.WithTimeout(context.Background(), wait.Timeout)
		defer cancel()
		if err := a.WaitReady(ctx); err != nil {
			t.Fatalf("WaitReady: %v", err)
		}
		if !a.Ready() {
			t.Fatal("WaitReady returned nil but Ready is false")
		}
	})
	t.Run("shutting down", func(t *testing.T) {
		if err := a.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		// No deadline: a WaitReady that waited for readiness would hang here.
		if err := a.WaitReady(context.Background()); err == nil || !strings.Contains(err.Error(), "shutting down") {
			t.Fatalf("WaitReady after Shutdown = %v, want shutting down", err)
		}
	})
}
