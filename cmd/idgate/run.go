package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/app"
	"github.com/idgate/idgate/internal/jsonlog"
	"github.com/idgate/idgate/tracing"
)

// errNoIssuer refuses to serve without an issuer: every token would be
// refused, and falling back to the development IdP would print a valid
// token into a pod's log stream. Only `idgate dev` runs that IdP.
var errNoIssuer = errors.New("config: issuers: required to serve: name at least one issuer in the configuration file or IDGATE_ISSUERS (run `idgate dev` for a development IdP)")

// errDenied is returned by check for a denied request (exit status 3), so
// scripts can tell a denial from a failure (exit status 1).
var errDenied = errors.New("request denied")

func exitCode(err error) int {
	switch {
	case errors.Is(err, errDenied):
		return 3
	case errors.Is(err, flag.ErrHelp):
		return 2
	}
	return 1
}

// run is idgate's real entry point; main only supplies the process's
// context, arguments, environment and streams.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, environ, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			printUsage(stdout)
			return nil
		case "-version", "--version", "version":
			printVersion(stdout)
			return nil
		}
	}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, environ, stdout, stderr)
	case "dev":
		return runDev(ctx, args, environ, stdout, stderr)
	case "check":
		return runCheck(ctx, args, stdout, stderr)
	case "load":
		return runLoad(ctx, args, stdout, stderr)
	case "migrate":
		return runMigrate(args, stdout, stderr)
	}
	printUsage(stderr)
	return fmt.Errorf("unknown command %q", cmd)
}

func runServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve")
	path := fs.String("config", "", "configuration file (default ./config.yaml when it exists)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *path == "" {
		if _, err := os.Stat("config.yaml"); err == nil {
			*path = "config.yaml"
		}
	}
	cfg, err := config.Load(*path, environ)
	if err != nil {
		return err
	}
	if len(cfg.Issuers) == 0 {
		return errNoIssuer
	}
	logw := newBufferedLog(stderr)
	defer logw.Close()
	log := newLogger(cfg, logw)
	opts := app.Options{Logger: log}
	tp, err := tracing.FromEnv(ctx, environ)
	if err != nil {
		return err
	}
	if tp != nil {
		opts.TracerProvider = tp
		defer flushTraces(tp, log)
		log.Info("tracing on: spans exported over OTLP")
	}
	return serveOpts(ctx, cfg, opts, func(a *app.App) {
		if *path != "" {
			go reloadLoop(ctx, a, *path, environ, cfg.WatchConfig, log)
		}
	})
}

func serveWith(ctx context.Context, cfg *config.Config, log *slog.Logger, started func(*app.App)) error {
	return serveOpts(ctx, cfg, app.Options{Logger: log}, started)
}

func serveOpts(ctx context.Context, cfg *config.Config, opts app.Options, started func(*app.App)) error {
	log := opts.Logger
	redis.SetLogger(redisLogger{log})
	a, err := app.New(cfg, opts)
	if err != nil {
		return err
	}
	if err := a.Open(ctx); err != nil {
		_ = a.Shutdown(context.Background())
		return err
	}
	if started != nil {
		started(a)
	}
	<-ctx.Done()
	log.Info("shutting down", "grace", cfg.Server.ShutdownGrace.String())
	return a.Shutdown(context.Background())
}

// flushTraces sends the spans still buffered, within a few seconds.
func flushTraces(tp *tracing.Provider, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		log.Warn("tracing: flush on exit failed", "error", err)
	}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	// slog's JSON handler, with the direct way in the decision log uses.
	return slog.New(jsonlog.New(w, opts))
}
