package userinfo_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/userinfo"
)

// TestEndpointOutageLoggedOncePerChangeOfState: three lookups answered 503
// are one warning naming the endpoint and the status; a 401 (about one
// token) changes nothing; the next good answer logs the recovery. The
// token never appears.
func TestEndpointOutageLoggedOncePerChangeOfState(t *testing.T) {
	p := newIDP(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	clk := newClock()
	var logs testlog.Buffer
	cache := newMemCache()
	r, _ := MustNew(t, userinfo.Config{Now: clk.Now, ProfileTTL: time.Minute, NegativeTTL: time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, p, cache)
	enrich := func() string {
		clk.Advance(2 * time.Second) // past NegativeTTL: ask again
		_, before, _ := cache.snapshot()
		got := r.Enrich(context.Background(), tokenIdentity(clk.Now().Add(time.Hour)), testToken)
		// The lookup stores its answer after handing it over, and stays
		// joinable until then: wait, so the next call starts its own.
		wait.For(t, "the entry stored", func() bool { _, sets, _ := cache.snapshot(); return sets > before })
		return got
	}
	for range 3 {
		if got := enrich(); got != userinfo.ReasonStatus {
			t.Fatalf("Enrich = %q, want %q", got, userinfo.ReasonStatus)
		}
	}
	p.set(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "who?", http.StatusUnauthorized) })
	enrich()
	p.set(jsonProfile(janeProfile))
	if got := enrich(); got != "" {
		t.Fatalf("Enrich after recovery = %q", got)
	}
	out := logs.String()
	t.Logf("log:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (failing, recovered):\n%s", len(lines), out)
	}
	endpoint := p.URL + "/userinfo"
	for _, w := range []string{"level=WARN", "endpoint=" + endpoint, `error="userinfo: status 503"`} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("failure line lacks %s:\n%s", w, lines[0])
		}
	}
	if w := `msg="userinfo: ` + endpoint + ` answering again after 3 failures over 8s"`; !strings.Contains(lines[1], w) {
		t.Errorf("recovery line lacks %s:\n%s", w, lines[1])
	}
	if strings.Contains(out, testToken) {
		t.Error("the access token is in the log")
	}
}
