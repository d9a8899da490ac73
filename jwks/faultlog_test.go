package jwks_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/jwks"
)

// TestOutageLoggedOncePerChangeOfState runs an issuer whose JWKS answers 503
// for several background fetches and then recovers: the outage is one
// warning naming the issuer, URL, status and next retry, and the recovery
// one line; readiness names the issuer and the cause meanwhile.
func TestOutageLoggedOncePerChangeOfState(t *testing.T) {
	p, err := devidp.Start(devidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	p.SetFault("jwks", devidp.Fault{Status: http.StatusServiceUnavailable})
	var logs testlog.Buffer
	cfg := jwks.DefaultConfig()
	cfg.Issuers = []jwks.IssuerConfig{{Issuer: p.Issuer(), Audiences: []string{"idgate-dev"}}}
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	v, err := jwks.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v.Start(ctx)

	wait.For(t, "4 failed key fetches", func() bool { return p.JWKSCalls() >= 4 })
	unready := strings.Join(v.Unready(), "\n")
	want := "issuer " + p.Issuer() + ": keys not loaded: fetch " + p.Issuer() + "/jwks: status 503"
	if unready != want {
		t.Errorf("Unready = %q\nwant %q", unready, want)
	}
	p.SetFault("jwks", devidp.Fault{})
	wait.For(t, "keys loaded", v.Ready)
	if u := v.Unready(); len(u) != 0 {
		t.Errorf("Unready after recovery = %q", u)
	}
	wait.For(t, "the recovery line", func() bool { return strings.Contains(logs.String(), "fetched again") })
	t.Logf("log:\n%s", logs.String())

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines for one outage, want 2 (failing, recovered):\n%s", len(lines), logs.String())
	}
	for _, w := range []string{`level=WARN`, `msg="jwks: key fetch failed"`, "issuer=" + p.Issuer(),
		`error="jwks: fetch ` + p.Issuer() + `/jwks: status 503"`, `keys=none`, "next_retry_in="} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("failure line lacks %s:\n%s", w, lines[0])
		}
	}
	for _, w := range []string{`level=INFO`, `msg="jwks: keys of ` + p.Issuer() + ` fetched again after `, " failures over "} {
		if !strings.Contains(lines[1], w) {
			t.Errorf("recovery line lacks %s:\n%s", w, lines[1])
		}
	}
}
