package faultlog_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/faultlog"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/internal/testkit/testlog"
)

func TestTrackerLogsOncePerChangeOfState(t *testing.T) {
	type step struct {
		advance time.Duration
		err     error // nil: success
	}
	down := errors.New("jwks: fetch https://idp/keys: status 503")
	other := errors.New("jwks: fetch https://idp/keys: connection refused")
	tests := []struct {
		name  string
		steps []step
		want  []string // substrings of each line, in order
	}{
		{"healthy logs nothing", []step{{0, nil}, {time.Second, nil}}, nil},
		{"outage of 8 failures then recovery", []step{
			{0, down}, {time.Second, down}, {2 * time.Second, down}, {4 * time.Second, down},
			{4 * time.Second, down}, {8 * time.Second, down}, {8 * time.Second, down}, {8 * time.Second, down},
			{8 * time.Second, nil}, {time.Second, nil},
		}, []string{
			`level=WARN msg="jwks: key fetch failed" issuer=https://idp error="jwks: fetch https://idp/keys: status 503"`,
			`level=INFO msg="jwks: keys of https://idp fetched again after 8 failures over 43s" issuer=https://idp failures=8 failing_for=43s`,
		}},
		{"a new cause is logged once the interval has passed", []step{
			{0, down}, {time.Second, other}, {time.Minute, other}, {time.Second, down}, {time.Minute, down},
		}, []string{
			`error="jwks: fetch https://idp/keys: status 503"`,
			`error="jwks: fetch https://idp/keys: connection refused" failures=3 failing_for=1m1s`,
			`error="jwks: fetch https://idp/keys: status 503" failures=5 failing_for=2m2s`,
		}},
		{"a second outage is logged again", []step{{0, down}, {time.Second, nil}, {time.Second, down}}, []string{
			"key fetch failed", "again after 1 failure over 1s", "key fetch failed",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf testlog.Buffer
			clk := testclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
			tr := faultlog.New(faultlog.Config{
				Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})),
				Now:    clk.Now, FailMessage: "jwks: key fetch failed",
				RecoveredMessage: "jwks: keys of https://idp fetched", Attrs: []any{"issuer", "https://idp"},
			})
			for _, s := range tc.steps {
				clk.Advance(s.advance)
				if s.err != nil {
					tr.Fail(s.err)
				} else {
					tr.OK()
				}
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if buf.String() == "" {
				lines = nil
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tc.want), buf.String())
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %s\nwant it to contain %s", i, lines[i], w)
				}
			}
		})
	}
}

// TestNilTrackerDoesNothing: a nil Tracker (profilecache without Redis)
// takes Fail and OK without panicking.
func TestNilTrackerDoesNothing(t *testing.T) {
	var tr *faultlog.Tracker
	tr.Fail(errors.New("x"))
	tr.OK()
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
