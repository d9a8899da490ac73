package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/idgate/idgate/internal/migrate"
)

// runMigrate is `idgate migrate oauth2-proxy [-env FILE] CONFIG [-- FLAGS]`:
// it prints the idgate config.yaml equivalent to an oauth2-proxy
// configuration, with a comment on every setting (where it went, or why it
// was not carried over). Secrets are never printed.
func runMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: idgate migrate oauth2-proxy [-env FILE] CONFIG [-- OAUTH2-PROXY FLAGS...]\n\n%s\n\n"+
			"CONFIG is oauth2-proxy's config file (key = value). -env reads its OAUTH2_PROXY_*\n"+
			"variables (NAME=value lines, e.g. from `kubectl set env deploy/oauth2-proxy --list`);\n"+
			"flags after -- are its command-line flags (--http-address=0.0.0.0:4180). Later\n"+
			"sources win, as in oauth2-proxy: file, then environment, then flags. The config is\n"+
			"printed to stdout; secrets are never printed.\n\nflags:\n", summary("migrate"))
		fs.PrintDefaults()
	}
	envFile := fs.String("env", "", "file of OAUTH2_PROXY_* NAME=value lines")
	if len(args) == 0 || args[0] != "oauth2-proxy" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return parseFlags(fs, args, stdout, stderr)
		}
		fs.SetOutput(stderr)
		fs.Usage()
		return errors.New("migrate: want `idgate migrate oauth2-proxy CONFIG`")
	}
	if err := parseFlags(fs, args[1:], stdout, stderr); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "--" {
		fs.SetOutput(stderr)
		fs.Usage()
		return errors.New("migrate: CONFIG (the oauth2-proxy config file) is required")
	}
	var flags []string
	if len(rest) > 1 {
		if rest[1] != "--" {
			return fmt.Errorf("migrate: unexpected %q after CONFIG (oauth2-proxy flags go after --)", rest[1])
		}
		flags = rest[2:]
	}
	file, err := readSettings(rest[0], migrate.Parse)
	if err != nil {
		return err
	}
	var env []migrate.Setting
	if *envFile != "" {
		if env, err = readSettings(*envFile, migrate.ParseEnv); err != nil {
			return err
		}
	}
	fl, err := migrate.ParseFlags(flags)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, migrate.Convert(migrate.Merge(file, env, fl)))
	return err
}

func readSettings(path string, parse func(io.Reader) ([]migrate.Setting, error)) ([]migrate.Setting, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer f.Close()
	s, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}
