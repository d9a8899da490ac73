package faultlog

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultInterval is the least time between two lines about one ongoing
// fault whose cause changed.
const DefaultInterval = time.Minute

// Tracker follows one dependency's state: healthy or failing. Its methods
// are safe for concurrent use; a nil *Tracker does nothing.
type Tracker struct {
	log       *slog.Logger
	now       func() time.Time
	interval  time.Duration
	failMsg   string
	recovered string
	attrs     []any

	mu        sync.Mutex
	failing   bool
	failures  int
	since     time.Time // first failure of this outage
	lastLog   time.Time
	lastCause string
}

// Config describes what a Tracker reports.
type Config struct {
	// Logger receives the lines; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Interval is the least time between two lines while the fault goes on
	// (a new cause); zero means DefaultInterval.
	Interval time.Duration
	// FailMessage is the warning logged when the fault starts or its cause
	// changes, e.g. "jwks: key fetch failed".
	FailMessage string
	// RecoveredMessage starts the line logged when it ends; " again after N
	// failures over D" is added, e.g. "jwks: keys of https://idp fetched".
	RecoveredMessage string
	// Attrs are added to every line (key, value pairs), e.g. "issuer", url.
	Attrs []any
}

// New returns a Tracker in the healthy state.
func New(cfg Config) *Tracker {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	return &Tracker{log: cfg.Logger, now: cfg.Now, interval: cfg.Interval,
		failMsg: cfg.FailMessage, recovered: cfg.RecoveredMessage, attrs: cfg.Attrs}
}

// Fail records a failed attempt. It logs a warning naming err when the
// fault starts, and again when err's text differs from the last one logged
// and Interval has passed since; otherwise it only counts. attrs (key,
// value pairs) are added to the line, e.g. when the next attempt is due.
func (t *Tracker) Fail(err error, attrs ...any) {
	if t == nil || err == nil {
		return
	}
	now := t.now()
	cause := err.Error()
	t.mu.Lock()
	first := !t.failing
	if first {
		t.failing, t.failures, t.since = true, 0, now
	}
	t.failures++
	logIt := first || (cause != t.lastCause && now.Sub(t.lastLog) >= t.interval)
	failures, since := t.failures, t.since
	if logIt {
		t.lastLog, t.lastCause = now, cause
	}
	t.mu.Unlock()
	if !logIt {
		return
	}
	args := append(append([]any{}, t.attrs...), "error", cause)
	if !first {
		args = append(args, "failures", failures, "failing_for", Duration(now.Sub(since)))
	}
	t.log.Warn(t.failMsg, append(args, attrs...)...)
}

// OK records a successful attempt; after a fault it logs the recovery with
// how many attempts failed over how long.
func (t *Tracker) OK() {
	if t == nil {
		return
	}
	t.mu.Lock()
	if !t.failing {
		t.mu.Unlock()
		return
	}
	failures, d := t.failures, t.now().Sub(t.since)
	t.failing, t.failures, t.lastCause = false, 0, ""
	t.mu.Unlock()
	msg := fmt.Sprintf("%s again after %d %s over %s", t.recovered, failures, plural(failures, "failure"), Duration(d))
	t.log.Info(msg, append(append([]any{}, t.attrs...), "failures", failures, "failing_for", Duration(d))...)
}

// Duration rounds d for a log line: whole seconds from 10s, milliseconds
// below.
func Duration(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
