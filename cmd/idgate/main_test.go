package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idgate/idgate/internal/devtools/devidp"

	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// syncBuffer collects concurrent writes.
type syncBuffer = testlog.Buffer

// instance is idgate started by run, for real, on loopback port 0.
type instance struct {
	grpcAddr, httpAddr string
	configPath         string
	logs               *syncBuffer
	client             authv3.AuthorizationClient
	stop               func() error
}

// mustStart writes cfgYAML to a file and runs `idgate serve --config` on it
// until the test ends. It finds the listening addresses in the log.
func mustStart(t *testing.T, cfgYAML string) *instance {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"serve", "--config", path}, nil, io.Discard, logs) }()
	inst := &instance{logs: logs, configPath: path}
	var exitErr error
	exited := false
	listening := wait.Poll(10*time.Second, func() bool {
		select {
		case exitErr = <-errc:
			exited = true
			return true
		default:
		}
		inst.grpcAddr, inst.httpAddr = testlog.ListeningAddrs(logs.String())
		return inst.grpcAddr != ""
	})
	switch {
	case exited:
		cancel()
		t.Fatalf("idgate exited: %v\n%s", exitErr, logs)
	case !listening:
		cancel()
		t.Fatalf("idgate did not start:\n%s", logs)
	}
	conn, err := grpc.NewClient(inst.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	inst.client = authv3.NewAuthorizationClient(conn)
	var once sync.Once
	var stopErr error
	inst.stop = func() error {
		once.Do(func() {
			conn.Close()
			cancel()
			select {
			case stopErr = <-errc:
			case <-time.After(15 * time.Second):
				stopErr = fmt.Errorf("idgate did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := inst.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return inst
}

// eventually waits, polling, until cond holds; after 15s it fails the test
// with the process's log. It is how these tests wait on a condition (a
// reload, a metric) rather than on the clock.
func (in *instance) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !wait.Poll(15*time.Second, cond) {
		t.Fatalf("%s did not happen:\n%s", what, in.logs)
	}
}

// waitReady polls /readyz until 200.
func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	ready := func() bool {
		resp, err := http.Get("http://" + in.httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if !wait.Poll(10*time.Second, ready) {
		t.Fatalf("idgate never became ready:\n%s", in.logs)
	}
}

func mustIdP(t *testing.T) *devidp.Provider {
	t.Helper()
	p, err := devidp.Start(devidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func mustMint(t *testing.T, p *devidp.Provider, claims map[string]any, alg string) string {
	t.Helper()
	tok, err := p.Mint(claims, devidp.MintOptions{Alg: alg})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func check(t *testing.T, in *instance, req *authv3.CheckRequest) *authv3.CheckResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := in.client.Check(ctx, req)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return resp
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// newJar is a cookie jar for a test browser.
func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// plainConfig is a config on loopback ports trusting issuer for audience,
// without userinfo: the start many tests add their keys to.
func plainConfig(issuer, audience string) string {
	return fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: %s
    audiences: [%s]
    userinfo: false
`, issuer, audience)
}
