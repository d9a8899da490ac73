package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runLoadCmd runs `idgate load` with args, bounded by a deadline.
func runLoadCmd(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, append([]string{"load"}, args...), nil, &stdout, &stderr); err != nil {
		t.Fatalf("idgate load: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

func TestLoadTokenFile(t *testing.T) {
	idp := mustIdP(t)
	in := mustStart(t, plainConfig(idp.Issuer(), "kubeflow"))
	in.waitReady(t)
	var file strings.Builder
	for _, sub := range []string{"alice", "bob"} {
		file.WriteString(mustMint(t, idp, map[string]any{"sub": sub, "aud": "kubeflow", "email": sub + "@example.com"}, "RS256") + "\n\n")
	}
	path := filepath.Join(t.TempDir(), "tokens")
	if err := writeFile(path, file.String()); err != nil {
		t.Fatal(err)
	}
	out, _ := runLoadCmd(t, "--addr", in.grpcAddr, "--token-file", path, "--requests", "200",
		"--concurrency", "4", "--metrics-url", "http://"+in.httpAddr+"/metrics")
	for _, want := range []string{"requests     200 in", "200 allowed, 0 denied, 0 errors", "requests/s", "p99", "per Check"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLoadMintedTokens(t *testing.T) {
	idpAddr := freeLoopbackAddr(t)
	in := mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: http://%s
    audiences: [idgate-load]
    userinfo: false
`, idpAddr))
	out, progress := runLoadCmd(t, "--addr", in.grpcAddr, "--tokens", "5", "--users", "2", "--idp-addr", idpAddr,
		"--requests", "200", "--wait", "30s", "--json")
	for _, want := range []string{`"requests":200`, `"allowed":200`, `"errors":0`, `"p99_us":`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(progress, "IDGATE_ISSUERS='[{\"issuer\":\"http://"+idpAddr) {
		t.Errorf("no configuration hint:\n%s", progress)
	}
}

func TestLoadRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"token sources are exclusive", []string{"--token-file", "x", "--tokens", "2", "--requests", "1"}},
		{"cpu sources are exclusive", []string{"--metrics-url", "http://127.0.0.1:1/metrics", "--pid", "1", "--requests", "1"}},
		{"no users", []string{"--tokens", "2", "--users", "0"}},
		{"missing token file", []string{"--token-file", filepath.Join(t.TempDir(), "none"), "--requests", "1"}},
		{"stray argument", []string{"now"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), append([]string{"load"}, tc.args...), nil, &out, &out); err == nil {
				t.Fatalf("accepted:\n%s", out.String())
			}
		})
	}
}

// freeLoopbackAddr returns a loopback address nothing listens on now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestLoadStopsEarlyWithReason: against a server that denies every token,
// load ends after --fail-fast Checks and says why, instead of measuring a
// run of failures.
func TestLoadStopsEarlyWithReason(t *testing.T) {
	idp := mustIdP(t)
	in := mustStart(t, plainConfig(idp.Issuer(), "kubeflow"))
	in.waitReady(t)
	path := filepath.Join(t.TempDir(), "tokens")
	if err := writeFile(path, mustMint(t, idp, map[string]any{"sub": "a", "aud": "elsewhere"}, "RS256")+"\n"); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"load", "--addr", in.grpcAddr, "--token-file", path,
		"--requests", "10000000", "--fail-fast", "50", "--concurrency", "2"}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "the first 50 Checks all failed") || !strings.Contains(err.Error(), "deny ") {
		t.Fatalf("err = %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "failures     deny ") {
		t.Errorf("report lacks the denials by reason:\n%s", stdout.String())
	}
}

// TestLoadWaitSaysWhy: when the server does not accept the development
// IdP's tokens, load shows the denial as it waits and ends with it.
func TestLoadWaitSaysWhy(t *testing.T) {
	other := mustIdP(t)
	in := mustStart(t, plainConfig(other.Issuer(), "kubeflow"))
	in.waitReady(t)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"load", "--addr", in.grpcAddr, "--tokens", "1",
		"--idp-addr", freeLoopbackAddr(t), "--requests", "1", "--wait", "1s"}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "last answer: denied 401") {
		t.Fatalf("err = %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "answers: denied 401") {
		t.Errorf("no progress while waiting:\n%s", stderr.String())
	}
}
