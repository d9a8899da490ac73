package jsonlog

import (
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

// FuzzLineMatchesSlog: for any time, zone, strings, numbers and lists, a
// Line is byte for byte slog.JSONHandler's line (or Start refuses, only
// for a year outside 0–9999).
func FuzzLineMatchesSlog(f *testing.F) {
	f.Add(int64(1764594245), int64(123456789), 0, "decision", "path", "/a\u2028\xff<&>\"\\\n", int64(200), 1.5e-7, true, "kubeflow-userid\x08\x0cx")
	f.Add(int64(0), int64(0), -12600, "", "", "", int64(-1), 0.0, false, "")
	f.Add(int64(-62135596800), int64(1), 3600, "m\x00", "k\x1f", "\xed\xa0\x80", int64(math.MaxInt64), 1e21, true, "a\x00b\x00c")
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int, msg, key, val string, n int64, fl float64, b bool, list string) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("Z", offset%(24*3600)))
		var items []string
		if list != "" {
			items = strings.Split(list, "\x00")
		}
		attrs := []attr{str(key, val), integer(key, n), float("f", fl), boolean(key, b), strs(key, items)}
		level := slog.Level(n % 16)
		got, ok := viaLine(t, tm, level, msg, attrs)
		if y := tm.Year(); !ok {
			if y >= 0 && y < 10000 {
				t.Fatalf("Start refused year %d", y)
			}
			return
		}
		if want := viaSlog(t, tm, level, msg, attrs); got != want {
			t.Fatalf("line differs from slog's\n got: %s\nwant: %s", got, want)
		}
	})
}

// FuzzSecondsMatchesSlog: Line.Seconds writes what slog writes for
// slog.Float64(k, d.Seconds()), for any duration.
func FuzzSecondsMatchesSlog(f *testing.F) {
	for _, d := range []int64{0, 1, 999, 1000, 1001, 61234, 999999999, 1000000000, 5400000000007, -1000, math.MaxInt64, math.MinInt64} {
		f.Add(d)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, d int64) {
		attrs := []attr{seconds("duration_seconds", time.Duration(d))}
		got, _ := viaLine(t, at, slog.LevelInfo, "m", attrs)
		if want := viaSlog(t, at, slog.LevelInfo, "m", attrs); got != want {
			t.Fatalf("Seconds(%d) differs from slog's\n got: %s\nwant: %s", d, got, want)
		}
	})
}
