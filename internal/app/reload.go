package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idgate/idgate/config"
)

// retireDelay lets Checks that started on the old stack finish before its
// clients are closed.
const retireDelay = 5 * time.Second

// Reload replaces issuers, routes, outputs, caches and login with cfg,
// atomically: Checks see either the old configuration or the new one, never
// a mix. The new stack must load every issuer's keys within Options.ReloadTimeout;
// otherwise, or if cfg cannot be built, the old configuration keeps serving
// and the error says why. Listen addresses and logging are not reloaded.
func (a *App) Reload(ctx context.Context, cfg *config.Config) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.stopping.Load() {
		return errors.New("app: reload: shutting down")
	}
	old := a.cur.Load()
	if cfg.Server != a.cfg.Server || cfg.Log != a.cfg.Log {
		a.log.Warn("reload: server.* and log.* changes need a restart; keeping the current ones")
	}
	key := old.key
	if cfg.Signing.KeyFile != old.cfg.Signing.KeyFile {
		key = nil // a new key file: load it
	}
	// Metrics are registered by name: take the old stack's out while the new
	// one registers, and put them back if the new one fails.
	old.reg.unregisterAll()
	next, err := newStack(cfg, a.opts, a.reg, key)
	if err != nil {
		old.reg.reregisterAll()
		return fmt.Errorf("app: reload: %w", err)
	}
	next.start(a.bg)
	if err := waitReady(ctx, next, a.opts.ReloadTimeout); err != nil {
		next.close()
		old.reg.reregisterAll()
		return fmt.Errorf("app: reload: %w", err)
	}
	a.cur.Store(next)
	a.authz.Reset() // responses share nothing built from the old configuration
	a.rec.Preset(presetLabels(next))
	time.AfterFunc(retireDelay, old.close)
	a.log.Info("configuration reloaded", "issuers", len(cfg.Issuers), "routes", len(cfg.Routes))
	return nil
}

// waitReady waits up to limit for s's issuers' keys. The error names each
// issuer still without keys, by its configuration key and URL, and the
// cause of its last fetch.
func waitReady(ctx context.Context, s *stack, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if pollUntil(ctx, readyPoll, s.verifier.Ready) != nil {
		return fmt.Errorf("issuer keys not loaded within %s: %s", limit, unreadyIssuers(s))
	}
	return nil
}

// unreadyIssuers prefixes each of the verifier's unready lines with the
// configuration key of its issuer ("issuers[1]: issuer https://…: …").
func unreadyIssuers(s *stack) string {
	lines := s.verifier.Unready()
	for i, line := range lines {
		for j, is := range s.cfg.Issuers {
			if strings.HasPrefix(line, "issuer "+is.Issuer+": ") {
				lines[i] = fmt.Sprintf("issuers[%d]: %s", j, line)
				break
			}
		}
	}
	return strings.Join(lines, "; ")
}
