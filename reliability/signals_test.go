package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestSIGTERMUnderLoad: Checks in flight when SIGTERM arrives all get an
// answer. Readiness fails at once, Checks are still answered during
// server.shutdown_delay, then the listener closes (later Checks are refused
// at connect, never accepted and dropped) and the process exits 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	// Every Check is a cold user whose userinfo call takes 100ms, so many
	// are in flight at any moment.
	idp.SetFault("userinfo", devidp.Fault{Delay: 100 * time.Millisecond})
	cfg := baseConfig(idp, "", "userinfo: {timeout: 1s}")
	p := mustRun(t, strings.Replace(cfg, "shutdown_grace: 5s", "shutdown_grace: 5s, shutdown_delay: 1s", 1))
	p.mustReady(10 * time.Second)

	const rate = 300
	toks := make([]string, rate*4)
	for i := range toks {
		toks[i] = mustMint(t, idp, map[string]any{"sub": fmt.Sprintf("c%d", i), "email": userEmail(i)}, devidp.MintOptions{})
	}
	next := func(i int) shot {
		i %= len(toks)
		return shot{kind: "cold", allow: true, user: userEmail(i), req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + toks[i]})}
	}
	tl := newTally()
	done := make(chan struct{})
	go func() { load(context.Background(), p.client, rate, 3*time.Second, next, tl); close(done) }()
	time.Sleep(time.Second)
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	if !wait.Poll(300*time.Millisecond, func() bool { return p.readyz() == http.StatusServiceUnavailable }) {
		t.Error("/readyz did not fail right after SIGTERM")
	}
	if resp := p.mustCheck(next(0).req); codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Errorf("a Check during shutdown_delay was not answered normally: %v", resp.GetStatus())
	}
	<-done
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("idgate did not exit after SIGTERM")
	}
	took := time.Since(sent)
	if p.exitErr != nil {
		t.Errorf("exit: %v", p.exitErr)
	}
	// Checks sent after the listener closed are refused at connect; every
	// other one was answered.
	tl.mustBeClean(t, 0)
	if tl.allowed.Load() == 0 || tl.refused.Load() == 0 {
		t.Errorf("load did not span the shutdown: %v", tl)
	}
	t.Logf("figures: SIGTERM: %v; exited %v after the signal", tl, took.Round(10*time.Millisecond))
}

// TestSIGHUPUnderLoad: SIGHUP with a good config swaps it in, with bad ones
// (unparsable, unknown key, unreachable issuer) is refused with a log line
// while the old one serves on; watch_config picks up a file change. No
// Check fails or changes identity meanwhile.
func TestSIGHUPUnderLoad(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	cfg := func(routes string) string {
		return baseConfig(idp, "    userinfo: false", "watch_config: true\nroutes:\n"+routes)
	}
	p := mustRun(t, cfg("  - {path_prefix: /healthz, public: true}"))
	p.mustReady(10 * time.Second)
	m := newMix(t, idp, 8)
	load(context.Background(), p.client, 200, 300*time.Millisecond, m.next, newTally())
	before := p.usage()
	docs := checkReq("/docs/x", nil)
	public := func() bool {
		return codes.Code(p.mustCheck(docs).GetStatus().GetCode()) == codes.OK
	}

	tl := newTally()
	done := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { load(ctx, p.client, 200, time.Minute, m.next, tl); close(done) }()
	mark := len(p.logs.String())
	steps := []struct {
		name, file, want string
		public           bool
		byWatch          bool
	}{
		{name: "good", file: cfg("  - {path_prefix: /docs, public: true}"), want: `"msg":"configuration reload applied"`, public: true},
		{name: "unparsable", file: "issuers: [", want: `"msg":"configuration reload refused`, public: true},
		{name: "unknown key", file: cfg("  - {path_prefix: /docs, public: true}") + "bogus: 1\n", want: `"msg":"configuration reload refused`, public: true},
		{name: "unreachable issuer", file: baseConfig(idp, "  - {issuer: \"http://127.0.0.1:1\", audiences: [x]}", ""), want: `"msg":"configuration reload refused`, public: true},
		{name: "watch_config", file: cfg("  - {path_prefix: /healthz, public: true}"), want: `"trigger":"file_changed"`, public: false, byWatch: true},
	}
	reloads := 0
	for _, st := range steps {
		if err := os.WriteFile(p.configPath, []byte(st.file), 0o600); err != nil {
			t.Fatal(err)
		}
		if !st.byWatch {
			p.signal(syscall.SIGHUP)
		}
		var ok bool
		if mark, ok = p.waitLog(15*time.Second, mark, st.want); !ok {
			t.Fatalf("%s: no log line %s", st.name, st.want)
		}
		reloads++
		if got := public(); got != st.public {
			t.Errorf("%s: /docs public = %v, want %v", st.name, got, st.public)
		}
	}
	stop()
	<-done
	tl.mustBeClean(t, 0)
	after := p.mustNotGrow(before, 32)
	t.Logf("figures: SIGHUP: %d reloads (1 good by signal, 3 refused, 1 by watch_config) under %v; goroutines %.0f→%.0f rss %.1f→%.1f MiB",
		reloads, tl, before.goroutines, after.goroutines, before.rssMiB, after.rssMiB)
}
