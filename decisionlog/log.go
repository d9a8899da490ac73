package decisionlog

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/idgate/idgate/decision"
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
func (r *Recorder) logDecision(ctx context.Context, req *decision.Request, res *decision.Result, d time.Duration) {
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
	status := res.Status
	if res.Allowed && status == 0 {
		status = 200
	}
	attrs := make([]slog.Attr, 0, 18) // stays on the stack; slog copies it
	attrs = append(attrs,
		slog.String("decision_id", req.ID),
		slog.String("method", req.Method),
		slog.String("host", req.Host),
		slog.String("path", pathOnly(req.Path)),
		slog.String("route", res.Route),
		slog.String("result", Result(res)),
		slog.Int("status", status),
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
	r.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "decision", attrs...)
}

// pathOnly is p without its query string and fragment: a query may carry
// a secret (an OAuth code, a signed URL's signature).
func pathOnly(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}
