package main

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/internal/app"
)

// watchInterval is how often watch_config looks at the file. Polling a hash
// works with Kubernetes ConfigMap volumes, whose files change by a symlink
// swap that file-event watchers often miss.
const watchInterval = 2 * time.Second

// reloadLoop reloads the configuration on SIGHUP and, with watch_config,
// when the file's content changes, until ctx ends. A configuration that
// does not load or build is refused with a log line; the old one serves on.
func reloadLoop(ctx context.Context, a *app.App, path string, environ []string, watch bool, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if watch {
		t := time.NewTicker(watchInterval)
		defer t.Stop()
		tick = t.C
	}
	last := fileHash(path)
	reload := func(why string) {
		cfg, err := config.Load(path, environ)
		if err == nil {
			err = a.Reload(ctx, cfg)
		}
		a.RecordReload(err)
		if err != nil {
			log.Error("configuration reload refused; the previous configuration keeps serving", "trigger", why, "error", err)
			return
		}
		log.Info("configuration reload applied", "trigger", why)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			last = fileHash(path)
			reload("sighup")
		case <-tick:
			if h := fileHash(path); h != last {
				last = h
				reload("file_changed")
			}
		}
	}
}

func fileHash(path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}
	}
	return sha256.Sum256(b)
}
