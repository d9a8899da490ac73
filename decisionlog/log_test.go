package decisionlog

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/jsonlog"
)

// lineCase is one decision to log.
type lineCase struct {
	name string
	req  decision.Request
	res  decision.Result
	d    time.Duration
}

func lineCases() []lineCase {
	alice := &identity.Identity{Issuer: "https://idp.example.com", Subject: "alice-sub", Email: "alice@example.com", UserClaim: "email"}
	odd := &identity.Identity{Issuer: "https://idp/\u2028<&>", Subject: "s\xff\x00\"\\", UserClaim: "upn",
		Extra: map[string]string{"upn": "bob\u2029\n\b\f"}, Degraded: "userinfo_timeout", GroupsOverage: true}
	refused := &identity.Identity{Issuer: "https://idp", Subject: "c", Email: "c@evil.example", UserClaim: "email", EmailRefused: "unverified"}
	get := decision.Request{ID: "b7c1f0e2", Method: "GET", Host: "runs", Path: "/api/v1/runs?token=SECRET#frag",
		Headers: map[string]string{"authorization": "Bearer SECRET-TOKEN", "cookie": "idgate_session=SECRET", "kubeflow-userid": "root-SECRET"}}
	return []lineCase{
		{"warm allow", get, decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "/api", Identity: alice}, 61 * time.Microsecond},
		{"allow without status", get, decision.Result{Allowed: true, Reply: decision.Reply{Reason: "public"}, Route: "/healthz"}, 0},
		{"deny, no identity", decision.Request{ID: "x", Method: "POST", Host: "h:8443", Path: "/p#f?x"},
			decision.Result{Reply: decision.Reply{Status: 401, Reason: "missing_token"}, Route: "default"}, 2500 * time.Millisecond},
		{"odd strings", decision.Request{ID: "id\u2028\xff", Method: "G\tET", Host: "<h>&", Path: "/a\x01\x7f\"\\/日本?q"},
			decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "/a\n", Identity: odd,
				Spoofed: []string{"kubeflow-userid", "x_\b\f\u2028<>"}, Forwarder: "spiffe://cluster.local/ns/a/sa/\"b\""}, 999 * time.Nanosecond},
		{"email refused", get, decision.Result{Reply: decision.Reply{Status: 403, Reason: "unverified_email"}, Route: "/api", Identity: refused}, time.Second},
		{"shadow deny with mismatches", get, decision.Result{Allowed: true, Shadow: true, Reply: decision.Reply{Status: 403, Reason: "forbidden"},
			Route: "/api", Identity: alice, Spoofed: []string{"kubeflow-userid"}, Mismatches: []string{"kubeflow-userid", "kubeflow-groups"}}, 3 * time.Millisecond},
		{"shadow allow, mismatches", get, decision.Result{Allowed: true, Shadow: true, WouldAllow: true, Reply: decision.Reply{Status: 200, Reason: "ok"},
			Identity: alice, Mismatches: []string{"kubeflow-groups"}}, time.Microsecond},
		{"mismatches outside shadow", get, decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Mismatches: []string{"x"}}, time.Hour},
		{"empty", decision.Request{}, decision.Result{}, -time.Nanosecond},
	}
}

// viaSlog is the line slog.JSONHandler writes for the decision at t.
func viaSlog(t testing.TB, tm time.Time, req *decision.Request, res *decision.Result, d time.Duration) string {
	t.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(tm, slog.LevelInfo, decisionMsg, 0)
	r.AddAttrs(decisionAttrs(nil, req, res, d)...)
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// viaLine is the line appendDecision writes through jsonlog at t.
func viaLine(t testing.TB, tm time.Time, req *decision.Request, res *decision.Result, d time.Duration) string {
	t.Helper()
	var buf bytes.Buffer
	h := jsonlog.New(&buf, nil)
	l, ok := h.Start(tm, slog.LevelInfo, decisionMsg)
	if !ok {
		t.Fatal("jsonlog refused the line")
	}
	appendDecision(l, req, res, d)
	if err := h.Write(l); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestDecisionLineMatchesSlog: the direct line is byte for byte the line
// slog's JSON handler writes for the same decision and time.
func TestDecisionLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 12, 1, 13, 30, 0, 123456000, time.FixedZone("CET", 3600))
	for _, tc := range lineCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := viaSlog(t, at, &tc.req, &tc.res, tc.d)
			if got := viaLine(t, at, &tc.req, &tc.res, tc.d); got != want {
				t.Fatalf("direct line differs from slog's\n got: %s\nwant: %s", got, want)
			}
			if strings.Contains(want, "SECRET") || strings.Contains(want, "frag") {
				t.Fatalf("the query or fragment reached the line: %s", want)
			}
		})
	}
}

// timeField is a line's leading time attribute, which differs between two
// Observe calls.
var timeField = regexp.MustCompile(`^\{"time":"[^"]+",`)

// TestObserveDirectLikeSlog: a Recorder whose Logger is idgate's JSON
// handler writes through the direct path the line a Recorder on
// slog.JSONHandler writes (time aside), honours the level and the
// LogDecisions setting, and stamps the real time even when durations run
// on a test clock, as slog does.
func TestObserveDirectLikeSlog(t *testing.T) {
	fake := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	clock := func() time.Time { return fake }
	for _, tc := range lineCases() {
		t.Run(tc.name, func(t *testing.T) {
			var direct, plain bytes.Buffer
			rd := mustRecorder(t, Config{Logger: slog.New(jsonlog.New(&direct, nil)), Now: clock})
			if rd.direct == nil {
				t.Fatal("the direct path is not taken")
			}
			rp := mustRecorder(t, Config{Logger: slog.New(slog.NewJSONHandler(&plain, nil)), Now: clock})
			start := fake.Add(-tc.d)
			rd.Observe(context.Background(), &tc.req, &tc.res, start)
			rp.Observe(context.Background(), &tc.req, &tc.res, start)
			got, want := direct.String(), plain.String()
			if !timeField.MatchString(got) || timeField.ReplaceAllString(got, "") != timeField.ReplaceAllString(want, "") {
				t.Fatalf("direct line differs from slog's\n got: %s\nwant: %s", got, want)
			}
			if strings.Contains(got, "SECRET") || strings.Contains(got, "frag") {
				t.Fatalf("a header value, the query or the fragment reached the line: %s", got)
			}
			if strings.Contains(got, `"time":"2001-`) {
				t.Fatalf("the line carries the test clock's time: %s", got)
			}
		})
	}
	allow := lineCases()[0]
	deny := lineCases()[2]
	filters := []struct {
		name    string
		level   slog.Level
		setting string
		tc      lineCase
		logged  bool
	}{
		{"info level", slog.LevelInfo, LogAll, allow, true},
		{"warn level", slog.LevelWarn, LogAll, deny, false},
		{"denied: allow", slog.LevelInfo, LogDenied, allow, false},
		{"denied: deny", slog.LevelInfo, LogDenied, deny, true},
		{"none", slog.LevelDebug, LogNone, deny, false},
	}
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := mustRecorder(t, Config{Logger: slog.New(jsonlog.New(&buf, &slog.HandlerOptions{Level: f.level})), LogDecisions: f.setting})
			r.Observe(context.Background(), &f.tc.req, &f.tc.res, r.Now())
			if got := strings.Contains(buf.String(), `"msg":"decision"`); got != f.logged {
				t.Fatalf("logged = %v, want %v: %s", got, f.logged, buf.String())
			}
		})
	}
}

// TestObserveDerivedHandlerUsesSlog: a logger derived with With carries
// attributes a direct line would lose, so it goes through slog.
func TestObserveDerivedHandlerUsesSlog(t *testing.T) {
	var buf bytes.Buffer
	r := mustRecorder(t, Config{Logger: slog.New(jsonlog.New(&buf, nil)).With("pod", "idgate-0")})
	if r.direct != nil {
		t.Fatal("direct path taken for a derived handler")
	}
	tc := lineCases()[0]
	r.Observe(context.Background(), &tc.req, &tc.res, r.Now())
	if !strings.Contains(buf.String(), `"msg":"decision","pod":"idgate-0","decision_id":"b7c1f0e2"`) {
		t.Fatalf("line lost the logger's attributes: %s", buf.String())
	}
}

func mustRecorder(tb testing.TB, cfg Config) *Recorder {
	tb.Helper()
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// FuzzDecisionLine: for any request and result strings, the direct line is
// byte for byte slog's.
func FuzzDecisionLine(f *testing.F) {
	f.Add("b7c1f0e2", "GET", "runs", "/api/v1/runs?x=1", "/api", "ok", "https://idp", "alice", "email", "alice@example.com", "", "", "", "", 200, int64(61000), true, false, false)
	f.Add("\u2028", "\xff", "<&>", "/a#b?c", "\n", "forbidden", "\x00", "\"\\", "upn", "b\b\f", "userinfo_timeout", "spiffe://x", "kubeflow-userid\x00x_\b", "kubeflow-groups", 403, int64(-1), true, true, true)
	f.Fuzz(func(t *testing.T, id, method, host, path, route, reason, iss, sub, userClaim, user, degraded, fwd, spoofed, mismatches string,
		status int, d int64, allowed, shadow, overage bool) {
		req := decision.Request{ID: id, Method: method, Host: host, Path: path}
		res := decision.Result{Allowed: allowed, Shadow: shadow, WouldAllow: status == 200, Reply: decision.Reply{Status: status, Reason: reason},
			Route: route, Forwarder: fwd, Spoofed: split(spoofed), Mismatches: split(mismatches)}
		if iss != "" {
			res.Identity = &identity.Identity{Issuer: iss, Subject: sub, UserClaim: userClaim, Email: user,
				Extra: map[string]string{userClaim: user}, Degraded: degraded, GroupsOverage: overage}
		}
		at := time.Unix(1764595800, d).UTC()
		want := viaSlog(t, at, &req, &res, time.Duration(d))
		if got := viaLine(t, at, &req, &res, time.Duration(d)); got != want {
			t.Fatalf("direct line differs from slog's\n got: %s\nwant: %s", got, want)
		}
	})
}

// split is s's NUL-separated parts; nil for "".
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// BenchmarkObserve is a warm allow's metrics and decision line (JSON, to
// io.Discard) through slog's JSON handler and through idgate's (direct).
func BenchmarkObserve(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"slog", slog.NewJSONHandler(io.Discard, nil)},
		{"direct", jsonlog.New(io.Discard, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := mustRecorder(b, Config{Logger: slog.New(bc.h)})
			tc := lineCases()[0]
			ctx := context.Background()
			start := r.Now()
			b.ReportAllocs()
			for b.Loop() {
				r.Observe(ctx, &tc.req, &tc.res, start)
			}
		})
	}
}
