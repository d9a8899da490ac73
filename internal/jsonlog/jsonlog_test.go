package jsonlog

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// attr is one attribute of a test record, for both ways of writing it.
type attr struct {
	slog   slog.Attr
	append func(*Line)
}

func str(k, v string) attr {
	return attr{slog.String(k, v), func(l *Line) { l.String(k, v) }}
}
func integer(k string, v int64) attr {
	return attr{slog.Int64(k, v), func(l *Line) { l.Int(k, v) }}
}
func boolean(k string, v bool) attr {
	return attr{slog.Bool(k, v), func(l *Line) { l.Bool(k, v) }}
}
func float(k string, v float64) attr {
	return attr{slog.Float64(k, v), func(l *Line) { l.Float64(k, v) }}
}
func seconds(k string, d time.Duration) attr {
	return attr{slog.Float64(k, d.Seconds()), func(l *Line) { l.Seconds(k, d) }}
}
func strs(k string, v []string) attr {
	return attr{slog.Any(k, v), func(l *Line) { l.Strings(k, v) }}
}

// viaSlog is what slog.JSONHandler writes for the record.
func viaSlog(t testing.TB, tm time.Time, level slog.Level, msg string, attrs []attr) string {
	t.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(tm, level, msg, 0)
	for _, a := range attrs {
		r.AddAttrs(a.slog)
	}
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// viaLine is what Handler writes for the same record built with Line;
// ok is false when Start refused.
func viaLine(t testing.TB, tm time.Time, level slog.Level, msg string, attrs []attr) (string, bool) {
	t.Helper()
	var buf bytes.Buffer
	h := New(&buf, nil)
	l, ok := h.Start(tm, level, msg)
	if !ok {
		return "", false
	}
	for _, a := range attrs {
		a.append(l)
	}
	if err := h.Write(l); err != nil {
		t.Fatal(err)
	}
	return buf.String(), true
}

// TestLineMatchesSlog: a Line is byte for byte slog's JSON line for the
// same record: time and zone formats, string escaping (control bytes,
// invalid UTF-8, U+2028/2029, HTML characters, quotes), numbers, booleans,
// string lists (encoding/json's escaping), and slog's error for NaN.
func TestLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 12, 1, 13, 4, 5, 120000000, time.UTC)
	zone := time.FixedZone("X", -(3*3600 + 30*60))
	cases := []struct {
		name  string
		time  time.Time
		level slog.Level
		msg   string
		attrs []attr
	}{
		{"plain", at, slog.LevelInfo, "decision", []attr{str("method", "GET"), integer("status", 200), boolean("ok", true)}},
		{"zero time omitted", time.Time{}, slog.LevelInfo, "m", []attr{str("a", "b")}},
		{"whole second, zone", time.Date(2026, 1, 2, 3, 4, 5, 0, zone), slog.LevelWarn, "m", nil},
		{"nanoseconds, local", time.Unix(1764594245, 123456789).Local(), slog.LevelDebug, "m", nil},
		{"level offset", at, slog.LevelInfo + 2, "m", nil},
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), slog.LevelError, "m", nil},
		{"control bytes", at, slog.LevelInfo, "a\nb", []attr{str("path", "/a\r\n\t\x00\x01\x1f\x7f\b\f\"\\")}},
		{"invalid utf-8", at, slog.LevelInfo, "\xff", []attr{str("host", "h\xc3\x28\xed\xa0\x80\xf0\x90\x80")}},
		{"line separators", at, slog.LevelInfo, "m", []attr{str("s", "a\u2028b\u2029c\u2027")}},
		{"html", at, slog.LevelInfo, "<m>", []attr{str("s", "<script>&amp;</script>'")}},
		{"unicode", at, slog.LevelInfo, "m", []attr{str("sub", "日本語 émoji 😀")}},
		{"escaped key", at, slog.LevelInfo, "m", []attr{str("k\"\n", "v")}},
		{"empty", at, slog.LevelInfo, "", []attr{str("", ""), str("a", "")}},
		{"ints", at, slog.LevelInfo, "m", []attr{integer("a", 0), integer("b", -1), integer("c", math.MaxInt64), integer("d", math.MinInt64)}},
		{"false", at, slog.LevelInfo, "m", []attr{boolean("b", false)}},
		{"floats", at, slog.LevelInfo, "m", []attr{float("a", 0), float("b", 1.5e-7), float("c", 0.000123), float("d", 1e21),
			float("e", 123456789.125), float("f", -2.5e-9), float("g", math.Copysign(0, -1)), float("h", 1e-6), float("i", 999999999999999999999.0)}},
		{"seconds", at, slog.LevelInfo, "m", []attr{seconds("a", 0), seconds("b", 1), seconds("c", 999), seconds("d", 1000), seconds("e", 1001),
			seconds("f", 61234*time.Nanosecond), seconds("g", 100*time.Millisecond), seconds("h", time.Second-1), seconds("i", time.Second),
			seconds("j", 90*time.Minute+7), seconds("k", -time.Microsecond), seconds("l", time.Duration(math.MaxInt64)), seconds("m", time.Duration(math.MinInt64)),
			seconds("n", 123456789), seconds("o", 120000000)}},
		{"float errors", at, slog.LevelInfo, "m", []attr{float("nan", math.NaN()), float("inf", math.Inf(1)), float("ninf", math.Inf(-1))}},
		{"string lists", at, slog.LevelInfo, "m", []attr{strs("a", []string{"kubeflow-userid", "x\b\f\n\x01<>&\xff\u2028"}), strs("b", []string{}), strs("c", nil), strs("d", []string{""})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := viaSlog(t, tc.time, tc.level, tc.msg, tc.attrs)
			got, ok := viaLine(t, tc.time, tc.level, tc.msg, tc.attrs)
			if !ok {
				t.Fatal("Start refused")
			}
			if got != want {
				t.Fatalf("line differs from slog's\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestStartRefuses: where slog would write something a Line cannot (an
// error for a year past 9999, a source, rewritten attributes), Start says
// no and the caller goes through slog.
func TestStartRefuses(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		opts *slog.HandlerOptions
		time time.Time
	}{
		{"year 10000", nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"negative year", nil, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"AddSource", &slog.HandlerOptions{AddSource: true}, at},
		{"ReplaceAttr", &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return a }}, at},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := New(&bytes.Buffer{}, tc.opts).Start(tc.time, slog.LevelInfo, "m"); ok {
				t.Fatal("Start accepted")
			}
		})
	}
	if _, ok := New(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}).Start(at, slog.LevelInfo, "m"); !ok {
		t.Fatal("a level alone must not refuse: the caller checks Enabled")
	}
}

// TestHandlerIsSlogs: the Handler's own slog lines, its level filter and
// derived handlers behave as slog.JSONHandler's, and Lines written from
// many goroutines beside slog lines never interleave.
func TestHandlerIsSlogs(t *testing.T) {
	var buf bytes.Buffer
	h := New(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})
	if h.Enabled(context.Background(), slog.LevelDebug) || !h.Enabled(context.Background(), slog.LevelInfo) {
		t.Fatal("level filter differs from slog's")
	}
	log := slog.New(h)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if g%2 == 0 {
					log.With("g", g).Info("slog line", "k", strings.Repeat("v", 100))
					continue
				}
				l, _ := h.Start(time.Now(), slog.LevelInfo, "direct line")
				l.String("k", strings.Repeat("w", 100))
				if err := h.Write(l); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, `{"time":"`) || !strings.HasSuffix(line, `"}`) ||
			!strings.Contains(line, `"msg":"slog line","g":`) && !strings.Contains(line, `"msg":"direct line","k":"ww`) {
			t.Fatalf("mixed or malformed line: %q", line)
		}
	}
}
