package reliability

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/envoysim"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// redisProc is a redis-server on a fixed loopback port that can be stopped
// and started again, with or without its data (append-only file).
type redisProc struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func mustRedis(t *testing.T) *redisProc {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not found: run `apt-get install -y redis-server` (scripts/test does)")
	}
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &redisProc{t: t, dir: t.TempDir(), port: port}
	r.start()
	t.Cleanup(func() { r.stop(true) })
	return r
}

func (r *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server persisting every write to its append-only file.
func (r *redisProc) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(c *exec.Cmd, d chan struct{}) { _ = c.Wait(); close(d) }(r.cmd, r.done)
	if !wait.Poll(5*time.Second, func() bool {
		reply, err := redistest.Do(r.addr(), "PING")
		return err == nil && len(reply) == 1 && reply[0] == "PONG"
	}) {
		r.t.Fatal("redis-server did not start")
	}
}

// stop ends the server (SIGTERM, or SIGKILL when crash) and waits.
func (r *redisProc) stop(crash bool) {
	if r.cmd == nil {
		return
	}
	if crash {
		_ = r.cmd.Process.Kill()
	} else {
		_ = r.cmd.Process.Signal(os.Interrupt)
	}
	<-r.done
	r.cmd = nil
}

// wipe deletes the persisted data: the next start is an empty Redis.
func (r *redisProc) wipe() {
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(r.dir, e.Name()))
	}
}

// browser logs in through an Envoy-like front and reports what a page
// request gets.
type browser struct {
	t     *testing.T
	front string
	c     *http.Client
}

func newBrowser(t *testing.T, p *proc) *browser {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%s", r.Header.Get("Kubeflow-Userid"))
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	f := httptest.NewServer(&envoysim.Front{Check: p.client, Upstream: u})
	t.Cleanup(f.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, front: f.URL, c: &http.Client{Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns status, Location and body of a page request.
func (b *browser) get(u, accept string) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", accept)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// login walks the redirect flow (the IdP logs its default user in) and
// fails the test unless the callback sends the browser back, logged in.
func (b *browser) login() {
	b.t.Helper()
	if st, body := b.tryLogin(); st != http.StatusFound {
		b.t.Fatalf("callback: %d %s", st, tail(body, 300))
	}
}

// tryLogin walks the redirect flow and returns the callback's status and
// body; it fails the test when the page is not sent to the IdP.
func (b *browser) tryLogin() (int, string) {
	b.t.Helper()
	st, loc, body := b.get(b.front+"/runs", "text/html")
	if st != http.StatusFound {
		b.t.Fatalf("no login redirect: %d %s", st, tail(body, 300))
	}
	_, loc, _ = b.get(loc, "text/html")
	st, _, body = b.get(loc, "text/html")
	return st, body
}

// loginYAML configures idgate on loopback with browser login against idp
// (its client, an insecure cookie for plain-http tests, a test session key)
// and idp as the one issuer, followed by rest (the redis and cache
// sections).
func loginYAML(idp *devidp.Provider, rest string) string {
	return fmt.Sprintf(`server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0"}
issuers:
  - {issuer: %[1]q, audiences: [kubeflow, %[2]s]}
login:
  issuer: %[1]q
  client_id: %[2]s
  client_secret: %[3]s
  cookie: {secure: false}
  session_key: "0123456789abcdef0123456789abcdef-test-only"
`, idp.Issuer(), idp.ClientID(), idp.ClientSecret()) + rest
}

// TestRedisRestartUnderLoad: Redis (profile cache and login sessions)
// stops and comes back twice during a steady load. No Check fails or
// carries a wrong identity. A session survives a restart that keeps the
// data; after one that loses it, a browser is sent to log in again and an
// API caller gets 401. While Redis is down a logged-in browser gets login's
// 503 "Sign-in unavailable" page (try again), not a trip to the IdP; a
// browser without a session is sent to the IdP (the login state travels in
// a cookie) and the callback answers the same 503: never another 5xx, never
// a redirect loop.
//
// Every step waits on what idgate reports, not on the clock: the load has
// been answered before an outage, idgate has seen Redis fail before the
// pages are asked for, and has read from or written to the restarted Redis
// before the session is looked at.
func TestRedisRestartUnderLoad(t *testing.T) {
	rds := mustRedis(t)
	idp := mustIdP(t, devidp.Options{})
	idp.SetDefaultUser(map[string]any{"sub": "web-1", "email": "web@example.com", "groups": []string{"ml"}})
	p := mustRun(t, loginYAML(idp, fmt.Sprintf(`cache:
  local_size: 100
  negative_ttl: 1s
redis: {addrs: [%q]}
`, rds.addr())))
	p.mustReady(10 * time.Second)
	b := newBrowser(t, p)
	b.login()
	if st, _, body := b.get(b.front+"/runs", "text/html"); st != 200 || body != "user=web@example.com" {
		t.Fatalf("logged in: %d %q", st, body)
	}
	m := newMix(t, idp, 200) // more users than the local cache holds: Redis is read
	load(context.Background(), p.client, 200, 300*time.Millisecond, m.next, newTally())
	before := p.usage()

	tl := newTally()
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	done := make(chan struct{})
	go func() { load(ctx, p.client, 200, 2*time.Minute, m.next, tl); close(done) }()
	redisOps := func() float64 { // Redis answered: a hit, a miss or a store
		return p.metric("idgate_profilecache_gets_total", "result", "hit_redis") +
			p.metric("idgate_profilecache_gets_total", "result", "miss") +
			p.metric("idgate_profilecache_sets_total", "result", "ok")
	}
	outages := 0
	pageDuringOutage := map[int]int{}
	cycle := func(crash, keep bool) {
		t.Helper()
		// Under load: a second's worth of Checks answered with Redis up,
		// then two seconds' worth with Redis down.
		answered := tl.allowed.Load() + tl.denied.Load()
		wait.Within(t, 30*time.Second, "load answered before the outage", func() bool {
			return tl.allowed.Load()+tl.denied.Load() >= answered+200
		})
		failed := p.metric("idgate_profilecache_gets_total", "result", "error")
		rds.stop(crash)
		outages++
		wait.Within(t, 30*time.Second, "idgate to see Redis fail", func() bool {
			return p.metric("idgate_profilecache_gets_total", "result", "error") > failed
		})
		answered = tl.allowed.Load() + tl.denied.Load()
		wait.Within(t, 30*time.Second, "load answered during the outage", func() bool {
			return tl.allowed.Load()+tl.denied.Load() >= answered+400
		})
		for range 5 { // a logged-in browser's pages: login's 503, not the IdP
			st, _, _ := b.get(b.front+"/runs", "text/html")
			pageDuringOutage[st]++
		}
		// A browser without a session is sent to the IdP (the login state
		// travels in a cookie); the callback ends on the 503 page, not in a
		// redirect back to the IdP.
		if st, _ := newBrowser(t, p).tryLogin(); st != http.StatusServiceUnavailable {
			t.Errorf("callback while Redis is down: %d, want 503", st)
		}
		if !keep {
			rds.wipe()
		}
		ops := redisOps()
		rds.start()
		wait.Within(t, 30*time.Second, "idgate to use the restarted Redis", func() bool { return redisOps() > ops })
	}
	cycle(false, true) // clean stop, data kept
	// The session path has its own pooled connections: a request that
	// meets one broken by the restart gets the try-again page once; the
	// session itself survives, so no re-login and no IdP redirect.
	wait.Within(t, 30*time.Second, "the session to work after a restart that kept the data", func() bool {
		st, loc, body := b.get(b.front+"/runs", "text/html")
		if st != 200 && st != http.StatusServiceUnavailable {
			t.Fatalf("session after a restart that kept the data: %d %q %q", st, loc, body)
		}
		return st == 200 && body == "user=web@example.com"
	})
	cycle(true, false) // crash, data lost
	st, loc, _ := b.get(b.front+"/runs", "text/html")
	if st != http.StatusFound || !strings.HasPrefix(loc, idp.Issuer()) {
		t.Errorf("browser after the session was lost: %d %q, want a redirect to the IdP", st, loc)
	}
	if st, _, _ := b.get(b.front+"/api/v1/runs", "application/json"); st != http.StatusUnauthorized {
		t.Errorf("API call after the session was lost: %d, want 401", st)
	}
	// Logging in again works once the session path has dropped the
	// connections the crash broke (until then: the try-again page).
	wait.Within(t, 30*time.Second, "logging in again after the crash", func() bool {
		st, body := b.tryLogin()
		if st != http.StatusFound && st != http.StatusServiceUnavailable {
			t.Fatalf("callback after the crash: %d %s", st, tail(body, 300))
		}
		return st == http.StatusFound
	})
	if st, _, body := b.get(b.front+"/runs", "text/html"); st != 200 || body != "user=web@example.com" {
		t.Errorf("logging in again: %d %q", st, body)
	}
	stopLoad()
	<-done
	for st := range pageDuringOutage {
		if st != http.StatusServiceUnavailable {
			t.Errorf("a logged-in browser's pages during the outages: %v, want only 503 (try again), never the IdP", pageDuringOutage)
		}
	}
	tl.mustBeClean(t, 0)
	// A Redis outage sends every lookup to userinfo at once: the outbound
	// client's idle pool (internal/app: 16 per host, two goroutines each)
	// grows toward its bound and idles for 90s. That is bounded, not a leak.
	after := p.mustNotGrowWithin(before, goroutineSlack+2*16, 32)
	t.Logf("figures: Redis: %d outages under %v; pages during outages by status %v; redis ops=%.0f errors=%.0f; degraded=%.0f; goroutines %.0f→%.0f rss %.1f→%.1f MiB",
		outages, tl, pageDuringOutage, redisOps(), p.metric("idgate_profilecache_gets_total", "result", "error"),
		p.metric("idgate_enrichment_degraded_total"), before.goroutines, after.goroutines, before.rssMiB, after.rssMiB)
}
