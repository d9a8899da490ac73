package decision

import (
	"context"
	"strings"

	"github.com/idgate/idgate/identity"
)

// Browser is the OIDC login for browsers (authorization code + PKCE, a
// session cookie), run entirely through Check like an ALB's
// authenticate-oidc. *login.Flow implements it: login speaks this
// package's Request, Reply and SessionInfo, so its replies reach the
// Result unconverted by anything in between.
type Browser interface {
	// Endpoint answers the flow's own paths (callback, logout): ok is true
	// and the reply is sent to the browser instead of the upstream.
	Endpoint(ctx context.Context, req *Request) (reply *Reply, ok bool)
	// Session returns the caller of the request's session cookie. ok is
	// false without a valid session; SetCookie may still clear a dead one.
	Session(ctx context.Context, req *Request) (s SessionInfo, ok bool)
	// Start begins a login: a redirect to the IdP.
	Start(ctx context.Context, req *Request) *Reply
	// StripCookies returns the cookie header without idgate's own cookies
	// (unchanged when it has none): the upstream never sees the session id.
	StripCookies(cookieHeader string) string
}

// Reply is a response idgate sends itself instead of forwarding the request
// (a redirect, an error page).
type Reply struct {
	// Status is the HTTP status.
	Status int
	// Headers are location, set-cookie (possibly several), content-type and
	// cache-control, with lower-case names.
	Headers []identity.Header
	// Body is a small HTML page, or empty. It never contains tokens,
	// cookies or secrets.
	Body string
	// Reason labels the reply in logs and metrics.
	Reason string
}

// SessionInfo is what a session cookie yields.
type SessionInfo struct {
	// Identity is the verified identity of the login (Source session). Its
	// ExpiresAt is the current access token's expiry.
	Identity identity.Identity
	// AccessToken is the session's current access token.
	AccessToken string
	// CookieHeader is the request's cookie header without idgate's cookies;
	// "" means the header should be removed before forwarding. (The engine
	// strips cookies on every route through StripCookies, so it does not
	// read this.)
	CookieHeader string
	// SetCookie goes on the response (a refreshed or cleared session), also
	// alongside a false result.
	SetCookie []identity.Header
	// Unavailable, with ok false, is the reply for a session that exists but
	// cannot be read now (the store is down): sent instead of a new login or
	// a 401, so an outage does not bounce a logged-in user to the IdP.
	Unavailable *Reply
}

// IsBrowser reports a top-level navigation that can follow a redirect to a
// login page: a GET or HEAD that accepts text/html (media types are
// case-insensitive). API and SDK callers (no text/html) get 401, never a
// redirect. Exported so the login's tests use the engine's own rule.
func IsBrowser(req *Request) bool {
	return (req.Method == "GET" || req.Method == "HEAD") && strings.Contains(strings.ToLower(req.Headers["accept"]), "text/html")
}

// reply turns a Browser reply into a denied Result (the proxy sends it to
// the client in place of the upstream's response).
func reply(res Result, r *Reply) Result {
	res.Allowed, res.Status, res.Reason = false, r.Status, r.Reason
	res.Message = r.Body
	res.ResponseHeaders = append(res.ResponseHeaders, r.Headers...)
	return res
}

// cookieRewrite returns the header mutation that removes idgate's cookies
// from the upstream request: a new cookie header, or "cookie" to remove.
func (e *Engine) cookieRewrite(headers map[string]string) (set *identity.Header, remove bool) {
	if e.cfg.Browser == nil {
		return nil, false
	}
	c, ok := headers["cookie"]
	if !ok {
		return nil, false
	}
	stripped := e.cfg.Browser.StripCookies(c)
	switch {
	case stripped == c:
		return nil, false
	case stripped == "":
		return nil, true
	}
	return &identity.Header{Name: "cookie", Value: stripped}, false
}
