package decision

import (
	"context"
	"slices"
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

// Reply is what the client is told: the answer part of every Result, and
// the whole of a response idgate sends itself instead of forwarding the
// request (a Browser's redirect or page). A Browser's Reply becomes the
// Result's as is, and the front end turns the Result into its response:
// one change of shape from the login to the proxy.
type Reply struct {
	// Status is the HTTP status of the response idgate sends (200 when the
	// request is allowed).
	Status int
	// Reason labels the decision in logs and metrics ("ok", "public",
	// "expired", "login_redirect"...).
	Reason string
	// Message is the body of a response idgate sends: a short sentence or
	// a small HTML page (the login's), or empty. It never contains tokens,
	// cookies or secrets.
	Message string
	// ResponseHeaders, with lower-case names, go on the response idgate
	// sends (www-authenticate, location, set-cookie, possibly several,
	// content-type, cache-control), or on the upstream's response when the
	// request is allowed (set-cookie of a refreshed session).
	ResponseHeaders []identity.Header
}

// SessionInfo is what a session cookie yields.
type SessionInfo struct {
	// Identity is the verified identity of the login (Source session). Its
	// ExpiresAt is the current access token's expiry.
	Identity identity.Identity
	// AccessToken is the session's current access token.
	AccessToken string
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

// reply makes a Browser's reply the denied Result's (the proxy sends it to
// the client in place of the upstream's response). Response headers the
// decision already holds (a dead session's clearing set-cookie) go first.
func reply(res Result, r *Reply) Result {
	pending := res.ResponseHeaders
	res.Allowed, res.Reply = false, *r
	if len(pending) > 0 {
		res.ResponseHeaders = append(slices.Clip(pending), r.ResponseHeaders...)
	}
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
