//go:build soak

package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
)

// TestSoak runs idgate, built with the race detector when the test is,
// under mixed valid, invalid and spoofed traffic with Redis and userinfo,
// for IDGATE_SOAK_DURATION (default 60s), while keys rotate, userinfo
// flaps and the configuration is reloaded. It is built only with
// `-tags soak` (scripts/test: `go test -race -tags soak -run TestSoak`).
func TestSoak(t *testing.T) {
	dur := 60 * time.Second
	if v := os.Getenv("IDGATE_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("IDGATE_SOAK_DURATION: %v", err)
		}
		dur = d
	}
	rds := redistest.Start(t)
	idp := mustIdP(t, devidp.Options{})
	cfg := baseConfig(idp, "", fmt.Sprintf("userinfo: {timeout: 500ms}\ncache: {local_size: 50}\nredis: {addrs: [%q], key_file: %q}", rds.Addr(), mustCacheKeyFile(t)))
	p := mustRun(t, cfg)
	p.mustReady(20 * time.Second)
	m := newMix(t, idp, 300)
	var cold atomic.Int64
	next := func(i int) shot {
		if i%25 == 0 { // a new user: userinfo and a Redis write
			n := cold.Add(1)
			sub := fmt.Sprintf("cold%d", n)
			tok, err := idp.Mint(map[string]any{"sub": sub, "email": sub + "@example.com", "aud": "kubeflow"}, devidp.MintOptions{})
			if err != nil {
				panic(err)
			}
			return shot{kind: "cold", allow: true, user: sub + "@example.com",
				req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})}
		}
		return m.next(i)
	}
	load(context.Background(), p.client, 200, 2*time.Second, next, newTally())
	before := p.usage()

	tl := newTally()
	done := make(chan struct{})
	go func() { load(context.Background(), p.client, 200, dur, next, tl); close(done) }()
	events := map[string]int{}
	tick := time.NewTicker(dur / 12)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-done:
		case <-tick.C:
			switch i % 4 {
			case 0:
				idp.RotateKeys(true)
				events["key_rotation"]++
			case 1:
				idp.SetFault("userinfo", devidp.Fault{Status: 503})
				events["userinfo_down"]++
			case 2:
				idp.SetFault("userinfo", devidp.Fault{})
				p.signal(syscall.SIGHUP)
				events["sighup"]++
			case 3:
				idp.SetFault("jwks", devidp.Fault{Status: 500})
				time.AfterFunc(dur/24, func() { idp.SetFault("jwks", devidp.Fault{}) })
				events["jwks_down"]++
			}
			continue
		}
		break
	}
	tl.mustBeClean(t, 0)
	after := p.mustNotGrow(before, 64)
	p.signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("idgate did not exit")
	}
	if p.exitErr != nil {
		t.Errorf("exit: %v", p.exitErr)
	}
	if strings.Contains(p.logs.String(), "DATA RACE") {
		t.Errorf("the race detector fired:\n%s", tail(p.logs.String(), 8000))
	}
	t.Logf("figures: soak %v (race detector %v): %v; faults %v; goroutines %.0f→%.0f rss %.1f→%.1f MiB",
		dur, raceEnabled, tl, events, before.goroutines, after.goroutines, before.rssMiB, after.rssMiB)
}

// mustCacheKeyFile writes a key for redis.key_file.
func mustCacheKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache-key")
	if err := os.WriteFile(path, []byte("reliability soak key, 32+ bytes, never real\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
