package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/idgate/idgate/internal/buildinfo"
)

// commands are idgate's subcommands with the line `idgate --help` shows.
var commands = []struct{ name, summary string }{
	{"serve", "run the ext_authz gRPC server and HTTP endpoints (default)"},
	{"dev", "run with a built-in development OIDC provider and print a sample token"},
	{"check", "send one CheckRequest to an ext_authz server and print the decision"},
	{"load", "drive an ext_authz server with CheckRequests; print requests/s, latency and server CPU"},
	{"migrate", "print the idgate config.yaml equivalent to an oauth2-proxy configuration (migrate oauth2-proxy FILE)"},
	{"version", "print version, commit and build date"},
	{"help", "print this help"},
}

// printUsage writes the top-level help.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "usage: idgate [command] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nflags:\n  -h, --help     print this help\n  --version      print the version\n\n"+
		"Run \"idgate COMMAND --help\" for a command's flags.\n")
}

func summary(name string) string {
	for _, c := range commands {
		if c.name == name {
			return c.summary
		}
	}
	return ""
}

// errHelpShown is returned once help was printed on request: run turns it
// into exit status 0, as operators expect of --help.
var errHelpShown = errors.New("help shown")

// newFlagSet is a subcommand's flag set whose usage names the command,
// says what it does and lists its flags.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: idgate %s [flags]\n\n%s\n\nflags:\n", name, summary(name))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. Help asked for (-h, --help) goes to
// stdout and returns errHelpShown; a bad flag prints the usage to stderr
// and returns the error.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = stdout.Write(buf.Bytes())
		return errHelpShown
	}
	_, _ = stderr.Write(buf.Bytes())
	return err
}

// printVersion writes what `idgate version` and `idgate --version` show.
func printVersion(w io.Writer) {
	in := buildinfo.Get()
	fmt.Fprintf(w, "idgate %s\ncommit: %s\nbuilt:  %s\ngo:     %s\n", in.Version, in.Commit, in.Date, in.GoVersion)
}
