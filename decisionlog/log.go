package decisionlog

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/internal/jsonlog"
)

// Values of Config.LogDecisions.
const (
	LogAll    = "all"    // every decision
	LogDenied = "denied" // denials and shadow-mode would-be denials
	LogNone   = "none"   // no decision lines; metrics only
)

// logDecision writes the decision's line, enough to answer "why did alice
// get 403 on /pipeline/…": id, method, host, path, route, result, status,
// reason, issuer, subject, user id, forwarder (when one decided), duration.
// It carries names and labels only: never a token, a cookie, a header
// value or the query string (the path is cut at '?' and '#').
//
// With the JSON handler idgate builds (jsonlog), the line is appended
// straight into a pooled buffer (appendDecision): slog's generic attribute
// walk and its encoding/json call for the float and the lists were a
// quarter of a warm Check's own CPU. The bytes are slog's (tested against
// decisionAttrs through slog.JSONHandler); any other handler gets
// decisionAttrs through slog. now is the decision's end on the Recorder's
// clock, reused as the line's time when that clock is the real one.
func (r *Recorder) logDecision(ctx context.Context, req *decision.Request, res *decision.Result, d time.Duration, now time.Time) {
	switch r.cfg.LogDecisions {
	case LogNone:
		return
	case LogDenied:
		if res.Allowed && (!res.Shadow || res.WouldAllow) {
			return
		}
	}
	if !r.cfg.Logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if r.direct != nil {
		if !r.realClock {
			now = time.Now() // slog's record time, whatever clock durations use
		}
		if l, ok := r.direct.Start(now, slog.LevelInfo, decisionMsg); ok {
			appendDecision(l, req, res, d)
			_ = r.direct.Write(l) // as slog.Logger: a failed log write is not the request's fault
			return
		}
	}
	var buf [18]slog.Attr // stays on the stack; slog copies it
	r.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, decisionMsg, decisionAttrs(buf[:0], req, res, d)...)
}

// decisionMsg is the decision line's message.
const decisionMsg = "decision"

// logStatus is the status the line reports: an allow without one is 200.
func logStatus(res *decision.Result) int {
	if res.Allowed && res.Status == 0 {
		return 200
	}
	return res.Status
}

// decisionAttrs appends the line's attributes, in order, to attrs. Keep it
// and appendDecision alike: a test compares their bytes.
func decisionAttrs(attrs []slog.Attr, req *decision.Request, res *decision.Result, d time.Duration) []slog.Attr {
	attrs = append(attrs,
		slog.String("decision_id", req.ID),
		slog.String("method", req.Method),
		slog.String("host", req.Host),
		slog.String("path", pathOnly(req.Path)),
		slog.String("route", res.Route),
		slog.String("result", Result(res)),
		slog.Int("status", logStatus(res)),
		slog.String("reason", res.Reason))
	if id := res.Identity; id != nil {
		attrs = append(attrs, slog.String("issuer", id.Issuer), slog.String("subject", id.Subject),
			slog.String("user_id", id.UserID()))
		if id.Degraded != "" {
			attrs = append(attrs, slog.String("degraded", id.Degraded))
		}
		if id.GroupsOverage {
			attrs = append(attrs, slog.Bool("groups_overage", true))
		}
	}
	if res.Forwarder != "" {
		attrs = append(attrs, slog.String("forwarder", res.Forwarder))
	}
	attrs = append(attrs, slog.Float64("duration_seconds", d.Seconds()))
	if len(res.Spoofed) > 0 {
		attrs = append(attrs, slog.Any("spoofed_headers", res.Spoofed))
	}
	if res.Shadow && len(res.Mismatches) > 0 {
		attrs = append(attrs, slog.Any("shadow_mismatches", res.Mismatches))
	}
	return attrs
}

// appendDecision is decisionAttrs appended to a jsonlog line.
func appendDecision(l *jsonlog.Line, req *decision.Request, res *decision.Result, d time.Duration) {
	l.String("decision_id", req.ID)
	l.String("method", req.Method)
	l.String("host", req.Host)
	l.String("path", pathOnly(req.Path))
	l.String("route", res.Route)
	l.String("result", Result(res))
	l.Int("status", int64(logStatus(res)))
	l.String("reason", res.Reason)
	if id := res.Identity; id != nil {
		l.String("issuer", id.Issuer)
		l.String("subject", id.Subject)
		l.String("user_id", id.UserID())
		if id.Degraded != "" {
			l.String("degraded", id.Degraded)
		}
		if id.GroupsOverage {
			l.Bool("groups_overage", true)
		}
	}
	if res.Forwarder != "" {
		l.String("forwarder", res.Forwarder)
	}
	l.Seconds("duration_seconds", d)
	if len(res.Spoofed) > 0 {
		l.Strings("spoofed_headers", res.Spoofed)
	}
	if res.Shadow && len(res.Mismatches) > 0 {
		l.Strings("shadow_mismatches", res.Mismatches)
	}
}

// pathOnly is p without its query string and fragment: a query may carry
// a secret (an OAuth code, a signed URL's signature).
func pathOnly(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}
