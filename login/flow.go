package login

import (
	"context"
	"strings"

	"golang.org/x/sync/singleflight"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

// Reasons label responses (and metrics).
const (
	ReasonLoginRedirect    = "login_redirect"
	ReasonLoginUnavailable = "login_unavailable"
	ReasonLoginOK          = "login_ok"
	ReasonIdPError         = "idp_error"
	ReasonStateMissing     = "state_missing"
	ReasonStateInvalid     = "state_invalid"
	ReasonStateCookie      = "state_cookie_missing"
	ReasonCodeMissing      = "code_missing"
	ReasonTokenExchange    = "token_exchange_failed"
	ReasonIDTokenInvalid   = "id_token_invalid"
	ReasonSessionStore     = "session_store_failed"
	ReasonBadRequest       = "bad_request"
	ReasonLogout           = "logout"
	ReasonMethodNotAllowed = "method_not_allowed"
)

// Flow implements the engine's browser login.
var _ decision.Browser = (*Flow)(nil)

// Flow runs browser logins. It is safe for concurrent use.
type Flow struct {
	cfg       Config
	refreshes singleflight.Group
}

// New validates cfg, fills its defaults and returns a Flow.
func New(cfg Config) (*Flow, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Scopes = append([]string(nil), cfg.Scopes...)
	return &Flow{cfg: cfg}, nil
}

// SignOutPath is always answered as LogoutPath is: oauth2-proxy's logout
// path, which Kubeflow's central dashboard links to (LOGOUT_URL).
const SignOutPath = "/oauth2/sign_out"

// Endpoint answers requests to CallbackPath, LogoutPath and SignOutPath; it
// returns false for any other path, which the caller then handles.
func (f *Flow) Endpoint(ctx context.Context, req *decision.Request) (*decision.Reply, bool) {
	path, query, _ := strings.Cut(req.Path, "?")
	switch path {
	case f.cfg.CallbackPath:
		return f.callback(ctx, req, query), true
	case f.cfg.LogoutPath, SignOutPath:
		return f.logout(ctx, req), true
	}
	return nil, false
}

func redirect(location, reason string, cookies ...identity.Header) *decision.Reply {
	h := make([]identity.Header, 0, len(cookies)+2)
	h = append(h, identity.Header{Name: "location", Value: location}, noStore)
	return &decision.Reply{Status: 302, ResponseHeaders: append(h, cookies...), Reason: reason}
}

var noStore = identity.Header{Name: "cache-control", Value: "no-store"}
