package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/buildinfo"
)

// TestHelpAndVersion: help asked for goes to stdout and succeeds (exit 0),
// listing commands or the command's flags; version prints the build.
func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"--help", []string{"--help"}, []string{"commands:", "serve", "check", "load", "migrate", "version"}},
		{"-h", []string{"-h"}, []string{"commands:", "dev"}},
		{"help", []string{"help"}, []string{"commands:"}},
		{"serve --help", []string{"serve", "--help"}, []string{"usage: idgate serve", "-config"}},
		{"check -h", []string{"check", "-h"}, []string{"usage: idgate check", "-addr", "-H"}},
		{"load --help", []string{"load", "--help"}, []string{"usage: idgate load", "-fail-fast", "-token-file"}},
		{"dev --help", []string{"dev", "--help"}, []string{"usage: idgate dev", "-grpc-addr"}},
		{"migrate --help", []string{"migrate", "--help"}, []string{"usage: idgate migrate oauth2-proxy", "-env", "secrets are never printed"}},
		{"migrate oauth2-proxy -h", []string{"migrate", "oauth2-proxy", "-h"}, []string{"usage: idgate migrate oauth2-proxy"}},
		{"version", []string{"version"}, []string{"idgate " + buildinfo.Get().Version, "commit:", "built:", "go:"}},
		{"--version", []string{"--version"}, []string{"idgate ", "commit:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), tc.args, nil, &stdout, &stderr); err != nil {
				t.Fatalf("err = %v (exit %d), want success\n%s", err, exitCode(err), stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr not empty:\n%s", stderr.String())
			}
		})
	}
}

func TestBadFlagFails(t *testing.T) {
	for _, args := range [][]string{{"serve", "--nope"}, {"frobnicate"}, {"check", "--nope"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, nil, &stdout, &stderr)
			if err == nil || exitCode(err) == 0 {
				t.Fatalf("err = %v, want a failure", err)
			}
			if !strings.Contains(stderr.String(), "usage: idgate") {
				t.Errorf("no usage on stderr:\n%s", stderr.String())
			}
		})
	}
}
