package app

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestShutdownDelay: once Shutdown starts, /readyz fails while Checks are
// still answered for server.shutdown_delay; then the listeners close.
func TestShutdownDelay(t *testing.T) {
	a, idp := mustOpenApp(t)
	cfg := *a.cfg
	cfg.Server.ShutdownDelay = 400 * time.Millisecond
	a.cfg = &cfg // the listeners are open; only Shutdown reads the delay
	req := warmRequest(t, idp)

	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- a.Shutdown(context.Background()) }()
	wait.For(t, "Shutdown to start", a.stopping.Load)
	resp, err := http.Get("http://" + a.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatalf("readyz during the delay: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz during the delay = %d, want 503", resp.StatusCode)
	}
	cr, err := a.authz.Check(context.Background(), req)
	if err != nil || cr.GetStatus().GetCode() != 0 {
		t.Fatalf("Check during the delay: %v %v", cr.GetStatus(), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < cfg.Server.ShutdownDelay {
		t.Fatalf("Shutdown returned after %v, before the %v delay", d, cfg.Server.ShutdownDelay)
	}
	if _, err := http.Get("http://" + a.HTTPAddr() + "/healthz"); err == nil {
		t.Fatal("HTTP listener still open after Shutdown")
	}
}
