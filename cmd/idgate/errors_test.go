package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigErrorsPrinted runs the real CLI on bad configurations and prints
// the error as main does: every problem is one line starting "idgate: "
// and naming its key, as docs/operating.md shows.
func TestConfigErrorsPrinted(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"one problem", "issuers:\n  - issuer: https://idp.example.com\n",
			"idgate: issuers[0].audiences: required\n"},
		{"every problem prefixed", "log:\n  level: loud\n  decisions: some\nissuers:\n  - issuer: https://idp.example.com\n  - issuer: https://other.example.com\n    audiences: [x]\n    email_verified: maybe\n",
			"idgate: log.level: \"loud\" is not one of debug, info, warn, error\n" +
				"idgate: log.decisions: \"some\" is not one of all, denied, none\n" +
				"idgate: issuers[0].audiences: required\n" +
				"idgate: issuers[1].email_verified: must be if_present, required or ignore, not \"maybe\"\n"},
		{"unknown key", "issuers:\n  - issuer: https://idp.example.com\n    audiences: [x]\n    audience: [y]\n",
			"idgate: issuers[0].audience: unknown key\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), []string{"serve", "--config", path}, nil, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("run accepted a bad configuration")
			}
			if code := exitCode(err); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			var out bytes.Buffer
			printError(&out, err)
			if out.String() != tc.want {
				t.Errorf("printed:\n%s\nwant:\n%s", out.String(), tc.want)
			}
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if !strings.HasPrefix(line, "idgate: ") || strings.HasPrefix(line, "idgate: config: ") {
					t.Errorf("line %q", line)
				}
			}
		})
	}
}
