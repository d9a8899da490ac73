package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idgate/idgate/config"
)

// TestMigrateCommand runs `idgate migrate oauth2-proxy` on Kubeflow's
// settings (file, environment, flags) and loads what it prints.
func TestMigrateCommand(t *testing.T) {
	dir := "../../internal/migrate/testdata"
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"migrate", "oauth2-proxy", "-env", filepath.Join(dir, "kubeflow.env"),
		filepath.Join(dir, "kubeflow.cfg"), "--", "--http-address=0.0.0.0:4180"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	c, err := config.Parse(strings.NewReader(out), []string{"IDGATE_LOGIN_CLIENT_SECRET=x"})
	if err != nil {
		t.Fatalf("the printed config does not load: %v\n%s", err, out)
	}
	if c.Login.AuthorizationEndpoint != "/dex/auth" || !c.Issuers[0].SkipDiscovery || len(c.Issuers) != 2 {
		t.Errorf("config = %+v", c)
	}
	if strings.Contains(out, "not-a-real-client-secret") || !strings.Contains(out, "# not carried over: http_address") {
		t.Errorf("output:\n%s", out)
	}
}

func TestMigrateCommandErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.cfg")
	if err := os.WriteFile(bad, []byte("a = [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no tool", []string{"migrate"}, "want `idgate migrate oauth2-proxy CONFIG`"},
		{"other tool", []string{"migrate", "pomerium", "x"}, "want `idgate migrate oauth2-proxy CONFIG`"},
		{"no file", []string{"migrate", "oauth2-proxy"}, "CONFIG (the oauth2-proxy config file) is required"},
		{"missing file", []string{"migrate", "oauth2-proxy", "/nonexistent.cfg"}, "/nonexistent.cfg"},
		{"parse error", []string{"migrate", "oauth2-proxy", bad}, "unterminated list"},
		{"stray argument", []string{"migrate", "oauth2-proxy", bad, "x"}, "flags go after --"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, nil, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout not empty on error:\n%s", stdout.String())
			}
		})
	}
}
