package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// readyPoll is how often WaitReady looks at readiness: keys arrive from
// background fetches that have no event to wait on, and staleness comes
// with the clock.
const readyPoll = 20 * time.Millisecond

// WaitReady waits until idgate is Ready (every issuer's keys loaded). It
// returns nil then; when ctx ends first it returns an error naming what is
// not ready (as Unready does), and at once while idgate shuts down. It is
// the one readiness wait: the gRPC health service turns SERVING through it,
// `idgate dev` prints its banner after it, and Reload waits the same way
// for a new configuration's keys.
func (a *App) WaitReady(ctx context.Context) error {
	err := pollUntil(ctx, readyPoll, func() bool { return a.Ready() || a.stopping.Load() })
	switch {
	case a.stopping.Load():
		return errors.New("app: not ready: shutting down")
	case err != nil:
		return fmt.Errorf("app: not ready: %s: %w", strings.Join(a.Unready(), "; "), err)
	}
	return nil
}

// pollUntil checks cond every interval until it holds (nil) or ctx ends
// (ctx's error).
func pollUntil(ctx context.Context, every time.Duration, cond func() bool) error {
	if cond() {
		return nil
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if cond() {
				return nil
			}
		}
	}
}
