// Package wait is how tests wait on a condition (a reload, a metric, a
// background fetch) instead of on the clock: it polls until the condition
// holds and fails the test, naming what it waited for, when it does not.
package wait

import (
	"testing"
	"time"
)

// Timeout is how long For waits. It only bounds a failing test: a passing
// one returns as soon as its condition holds.
const Timeout = 10 * time.Second

// For polls cond until it holds; after Timeout it fails tb with
// "timed out after 10s waiting for <what>".
func For(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	Within(tb, Timeout, what, cond)
}

// Within is For with its own limit, for a test whose claim is that
// something happens within a time.
func Within(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Poll(within, cond) {
		tb.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// Poll polls cond until it holds or within passes and reports whether it
// held. The first polls come quickly (5ms), later ones every 50ms at most,
// so a condition that reads a real process (a /metrics scrape) is not
// hammered while it waits.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	every := 5 * time.Millisecond
	tick := time.NewTimer(every)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
		every = min(2*every, 50*time.Millisecond)
		tick.Reset(every)
	}
}
