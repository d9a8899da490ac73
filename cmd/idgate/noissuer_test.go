package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeWithoutIssuerRefuses holds the identity path "who is the
// issuer": a pod whose configuration names no issuer (an empty ConfigMap, a
// missing file, IDGATE_ISSUERS cleared) must not start the development IdP
// and print a valid token to its log stream; it exits at once naming the
// key. Only `idgate dev` runs the development IdP.
func TestServeWithoutIssuerRefuses(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		file    string // written as ./config.yaml in a fresh working directory
		environ []string
	}{
		{name: "plain idgate reading ./config.yaml", file: "server: {grpc_addr: '127.0.0.1:0', http_addr: '127.0.0.1:0'}\n"},
		{name: "plain idgate without any file", args: []string{}},
		{name: "serve --config with no issuers", args: []string{"serve", "--config", "config.yaml"}, file: "log: {level: debug}\n"},
		{name: "issuers cleared by the environment", args: []string{"serve", "--config", "config.yaml"},
			file:    "issuers: [{issuer: 'https://idp.example.com', audiences: [a]}]\n",
			environ: []string{"IDGATE_ISSUERS=", "IDGATE_SERVER_GRPC_ADDR=127.0.0.1:0", "IDGATE_SERVER_HTTP_ADDR=127.0.0.1:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			environ := append([]string{"IDGATE_SERVER_GRPC_ADDR=127.0.0.1:0", "IDGATE_SERVER_HTTP_ADDR=127.0.0.1:0"}, tc.environ...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stdout, stderr := &syncBuffer{}, &syncBuffer{}
			err := run(ctx, tc.args, environ, stdout, stderr)
			if ctx.Err() != nil {
				t.Fatalf("idgate served until the test gave up (err %v); stdout:\n%s", err, stdout)
			}
			if err == nil || !strings.Contains(err.Error(), "issuers: required") || !strings.Contains(err.Error(), "idgate dev") || exitCode(err) != 1 {
				t.Fatalf("err = %v, want a refusal naming issuers and pointing to idgate dev", err)
			}
			if out := stdout.String() + stderr.String(); strings.Contains(out, "token") || strings.Contains(out, "development IdP") {
				t.Fatalf("printed a development token or IdP:\n%s", out)
			}
		})
	}
}
