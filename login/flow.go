package login

import (
	"context"
	"strings"

	"golang.org/x/sync/singleflight"

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

// Request is the part of an HTTP request the login looks at.
type Request struct {
	// Method, Scheme ("http" or "https") and Host (the authority).
	Method, Scheme, Host string
	// Path is the request target: path and query.
	Path string
	// Headers by lower-case name.
	Headers map[string]string
}

// Response is an answer idgate gives instead of forwarding the request.
type Response struct {
	// Status is the HTTP status.
	Status int
	// Headers are location, set-cookie (possibly several), content-type and
	// cache-control, with lower-case names.
	Headers []identity.Header
	// Body is a small HTML page, or empty. It never contains tokens,
	// cookies or secrets.
	Body string
	// Reason labels the response for logs and metrics.
	Reason string
}

// SessionResult is what a session cookie yields.
type SessionResult struct {
	// Identity is the verified identity of the login (Source session). Its
	// ExpiresAt is the current access token's expiry.
	Identity identity.Identity
	// AccessToken is the session's current access token.
	AccessToken string
	// CookieHeader is the request's cookie header without idgate's cookies;
	// "" means the header should be removed before forwarding.
	CookieHeader string
	// SetCookie are headers for the response to the browser: set when the
	// session ended (they clear the cookie), also alongside a false result.
	SetCookie []identity.Header
	// Unavailable, with a false result, is the page to answer with when the
	// session could not be read (the store failed, or a refresh was cut
	// short): a logged-in user is told to try again rather than sent to the
	// IdP, whose callback could not store a session either.
	Unavailable *Response
}

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
func (f *Flow) Endpoint(ctx context.Context, req *Request) (*Response, bool) {
	path, query, _ := strings.Cut(req.Path, "?")
	switch path {
	case f.cfg.CallbackPath:
		return f.callback(ctx, req, query), true
	case f.cfg.LogoutPath, SignOutPath:
		return f.logout(ctx, req), true
	}
	return nil, false
}

// IsBrowser reports whether a request looks like a browser navigation that
// a redirect to the login can help: a GET that accepts text/html.
func IsBrowser(req *Request) bool {
	return req.Method == "GET" && strings.Contains(strings.ToLower(req.Headers["accept"]), "text/html")
}

// strippedCookies is the request's cookie header without idgate's cookies.
func (f *Flow) strippedCookies(req *Request) string {
	return f.StripCookies(req.Headers["cookie"])
}

func redirect(location, reason string, cookies ...identity.Header) *Response {
	h := make([]identity.Header, 0, len(cookies)+2)
	h = append(h, identity.Header{Name: "location", Value: location}, noStore)
	return &Response{Status: 302, Headers: append(h, cookies...), Reason: reason}
}

var noStore = identity.Header{Name: "cache-control", Value: "no-store"}
