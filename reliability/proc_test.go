package reliability

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/internal/testkit/promtest"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// binary is the idgate executable, built into TestMain's directory by the
// first mustRun (buildBinary), so that a run needing no process (-run '^$',
// the fuzz target and each of its workers) does not build it.
var (
	binary    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "idgate-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "idgate")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds idgate (with -race when the tests run under it) once.
func buildBinary(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		args := []string{"build", "-o", binary}
		if raceEnabled {
			args = append(args, "-race")
		}
		build := exec.Command("go", append(args, "../cmd/idgate")...)
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build idgate: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// lockedBuffer collects concurrent writes.
type lockedBuffer = testlog.Buffer

// proc is one idgate process serving a config file on loopback port 0.
type proc struct {
	t          *testing.T
	cmd        *exec.Cmd
	configPath string
	grpcAddr   string
	httpAddr   string
	logs       *lockedBuffer
	conn       *grpc.ClientConn
	client     authv3.AuthorizationClient
	exited     chan struct{}
	exitErr    error
}

// mustRun writes cfg and starts `idgate serve --config` on it with env
// added to the environment; it returns once idgate listens (not
// necessarily ready). The process is killed when the test ends.
func mustRun(t *testing.T, cfg string, env ...string) *proc {
	t.Helper()
	buildBinary(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, configPath: path, logs: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve", "--config", path)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		if p.conn != nil {
			p.conn.Close()
		}
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("idgate log (tail):\n%s", tail(p.logs.String(), 4000))
		}
	})
	exited := false
	listening := wait.Poll(15*time.Second, func() bool {
		select {
		case <-p.exited:
			exited = true
			return true
		default:
		}
		p.grpcAddr, p.httpAddr = testlog.ListeningAddrs(p.logs.String())
		return p.grpcAddr != ""
	})
	switch {
	case exited:
		t.Fatalf("idgate exited: %v\n%s", p.exitErr, p.logs)
	case !listening:
		t.Fatalf("idgate did not listen:\n%s", p.logs)
	}
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p.conn, p.client = conn, authv3.NewAuthorizationClient(conn)
	return p
}

// readyz returns the /readyz status code (0 when unreachable).
func (p *proc) readyz() int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.httpAddr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mustReady waits until /readyz answers 200.
func (p *proc) mustReady(within time.Duration) {
	p.t.Helper()
	if !wait.Poll(within, func() bool { return p.readyz() == http.StatusOK }) {
		p.t.Fatalf("idgate not ready within %v", within)
	}
}

// metric sums the samples of the named metric whose labels include every
// name/value pair in labels ("result", "error"), from the process's
// /metrics; 0 while the process does not export it.
func (p *proc) metric(name string, labels ...string) float64 {
	p.t.Helper()
	return max(promtest.Value(p.t, promtest.Scrape("http://"+p.httpAddr+"/metrics"), name, labels...), 0)
}

// usage is the process's goroutines and resident memory.
type usage struct {
	goroutines float64
	rssMiB     float64
}

func (p *proc) usage() usage {
	return usage{p.metric("go_goroutines"), p.metric("process_resident_memory_bytes") / (1 << 20)}
}

// mustNotGrow compares usage after a run with before, once goroutines
// have had a moment to wind down: no goroutine leak, no runaway memory.
func (p *proc) mustNotGrow(before usage, maxRSSGrowthMiB float64) usage {
	p.t.Helper()
	return p.mustNotGrowWithin(before, goroutineSlack, maxRSSGrowthMiB)
}

// mustNotGrowWithin is mustNotGrow allowing slack more goroutines, for a
// run that legitimately leaves more idle connections than it found.
func (p *proc) mustNotGrowWithin(before usage, slack, maxRSSGrowthMiB float64) usage {
	p.t.Helper()
	var after usage
	wait.Poll(5*time.Second, func() bool {
		after = p.usage()
		return after.goroutines <= before.goroutines+slack
	})
	if after.goroutines > before.goroutines+slack {
		p.t.Errorf("goroutines grew from %.0f to %.0f", before.goroutines, after.goroutines)
	}
	if after.rssMiB > before.rssMiB+maxRSSGrowthMiB {
		p.t.Errorf("resident memory grew from %.1f MiB to %.1f MiB", before.rssMiB, after.rssMiB)
	}
	return after
}

// goroutineSlack allows for idle connections and pool workers that come
// and go with traffic.
const goroutineSlack = 16

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// waitLog waits until the log holds a line containing every one of
// substrings after the first skip bytes, and returns the log's length.
func (p *proc) waitLog(within time.Duration, skip int, substrings ...string) (int, bool) {
	found := false
	wait.Poll(within, func() bool {
		logs := p.logs.String()
		for _, line := range strings.Split(logs[min(skip, len(logs)):], "\n") {
			all := true
			for _, s := range substrings {
				all = all && strings.Contains(line, s)
			}
			if all {
				found = true
				return true
			}
		}
		return false
	})
	return len(p.logs.String()), found
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// mustCheck sends one Check with a 5s deadline.
func (p *proc) mustCheck(req *authv3.CheckRequest) *authv3.CheckResponse {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := p.client.Check(ctx, req)
	if err != nil {
		p.t.Fatalf("Check: %v", err)
	}
	return resp
}
