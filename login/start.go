package login

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/session"
)

// maxReturnLen bounds the remembered original URL.
const maxReturnLen = 2048

var b64 = base64.RawURLEncoding

// randomString is 256 random bits, base64url (43 characters).
func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return b64.EncodeToString(b[:])
}

// wellFormedRandom reports whether v looks like a randomString.
func wellFormedRandom(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := b64.Strict().DecodeString(v)
	return err == nil
}

// maxReturnInState bounds the original URL kept in a state cookie; a longer
// one returns to its path alone, or to "/".
const maxReturnInState = 512

// Start begins a login: it seals the state, PKCE verifier, nonce and
// original path into a cookie of its own (nothing is stored server-side
// before the IdP has answered), and answers 302 to the authorization
// endpoint. When the IdP's endpoints are unknown it answers 503 with a page,
// never a redirect. Callers add the SetCookie of a failed Session to the
// response.
func (f *Flow) Start(ctx context.Context, req *decision.Request) *decision.Reply {
	returnTo := safeReturnPath(req.Path)
	eps, ok := f.cfg.Endpoints()
	if !ok || eps.Authorization == "" {
		return page(http.StatusServiceUnavailable, ReasonLoginUnavailable, "Sign-in unavailable",
			"The identity provider cannot be reached right now. Please try again in a moment.", returnTo)
	}
	origin, ok := requestOrigin(req)
	if !ok {
		return page(http.StatusBadRequest, ReasonBadRequest, "Bad request", "The request's host is not valid.", "")
	}
	redirectURI, _ := f.redirectURI(req)
	authURL, err := authorizationURL(eps.Authorization, origin)
	if err != nil {
		return page(http.StatusServiceUnavailable, ReasonLoginUnavailable, "Sign-in unavailable",
			"The identity provider is misconfigured.", "")
	}
	st := session.State{ID: randomString(), Verifier: oauth2.GenerateVerifier(), Nonce: randomString(), ReturnTo: shortReturn(returnTo)}
	sealed, err := f.cfg.Sessions.SealState(st)
	if err != nil {
		return page(http.StatusServiceUnavailable, ReasonSessionStore, "Sign-in unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.", returnTo)
	}
	setParams(authURL, f.authParams(redirectURI, f.scopes(eps), st.ID, st.Verifier, st.Nonce))
	cookies := append(f.prunePending(req), f.stateCookie(st.ID, sealed))
	return redirect(authURL.String(), ReasonLoginRedirect, cookies...)
}

// shortReturn keeps a state cookie small: a return path longer than
// maxReturnInState loses its query, then falls back to "/".
func shortReturn(p string) string {
	if len(p) <= maxReturnInState {
		return p
	}
	if path, _, _ := strings.Cut(p, "?"); len(path) <= maxReturnInState {
		return path
	}
	return "/"
}

// prunePending clears the request's state cookies that no longer open
// (expired, made with a retired key, forged) and the oldest live ones, so
// that with the new login at most maxPendingLogins are pending.
func (f *Flow) prunePending(req *decision.Request) []identity.Header {
	var clear []identity.Header
	type pending struct {
		name    string
		created time.Time
	}
	var live []pending
	for _, c := range cookiesWithPrefix(req.Headers["cookie"], f.statePrefix(), maxStateCookies) {
		st, err := f.cfg.Sessions.OpenState(c.value)
		if err != nil || f.stateCookieName(st.ID) != c.name {
			clear = append(clear, f.clearStateCookie(c.name))
			continue
		}
		live = append(live, pending{c.name, st.Created})
	}
	slices.SortStableFunc(live, func(a, b pending) int { return a.created.Compare(b.created) })
	for len(live) > maxPendingLogins-1 {
		clear = append(clear, f.clearStateCookie(live[0].name))
		live = live[1:]
	}
	return clear
}

// redirectURI is scheme://host + CallbackPath, false for a host that is not
// a plain host[:port].
func (f *Flow) redirectURI(req *decision.Request) (string, bool) {
	origin, ok := requestOrigin(req)
	return origin + f.cfg.CallbackPath, ok
}

// requestOrigin is the request's scheme://host, on which the redirect URI
// (and a path-form authorization endpoint) is built; false for a host that
// is not a plain host[:port].
func requestOrigin(req *decision.Request) (string, bool) {
	scheme := strings.ToLower(req.Scheme)
	switch scheme {
	case "":
		scheme = "https"
	case "http", "https":
	default:
		return "", false
	}
	if !validHost(req.Host) {
		return "", false
	}
	return scheme + "://" + req.Host, true
}

// authorizationURL is the authorization endpoint: an absolute URL as is, or
// a path ("/dex/auth", for an IdP the browser reaches through the same
// gateway) on origin. A path must stay on origin however a browser reads
// it: no "//", backslash or encoded separators.
func authorizationURL(endpoint, origin string) (*url.URL, error) {
	if strings.HasPrefix(endpoint, "/") {
		if !SafeEndpointPath(endpoint) {
			return nil, errors.New("login: authorization endpoint: unsafe path")
		}
		endpoint = origin + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("login: authorization endpoint: not an absolute http(s) URL")
	}
	return u, nil
}

// SafeEndpointPath reports whether p, a path-form authorization endpoint
// (and query), stays on the request's host however a browser or upstream
// decodes it: a same-host return path, with no encoded slash or backslash
// at all. idgate's configuration checks login.authorization_endpoint with
// it, so a value that loads is one Start accepts.
func SafeEndpointPath(p string) bool {
	lower := strings.ToLower(p)
	return safeReturnPath(p) == p && !strings.Contains(lower, "%2f") && !strings.Contains(lower, "%5c")
}

// validHost accepts a DNS name or IP literal with an optional port.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]_", c) >= 0) {
			return false
		}
	}
	return true
}

// safeReturnPath returns target (a request path and query) when it can only
// lead back to the same host, and "/" otherwise: it refuses anything not
// starting with a single "/", a scheme or authority, backslashes, control
// characters, and percent-encoded forms of these ("/%2F%2Fevil",
// "/%5Cevil"). A fragment is dropped.
func safeReturnPath(target string) string {
	target, _, _ = strings.Cut(target, "#")
	if target == "" || len(target) > maxReturnLen || !printableASCII(target) {
		return "/"
	}
	path, _, _ := strings.Cut(target, "?")
	if strings.ContainsRune(path, '\\') {
		return "/"
	}
	// Each decoding must still be a plain same-host path: browsers and
	// upstreams may decode once more than we expect.
	for s, i := path, 0; ; i++ {
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || hasControl(s) {
			return "/"
		}
		d, err := url.PathUnescape(s)
		if err != nil || i == 4 {
			return "/"
		}
		if d == s {
			break
		}
		s = d
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return target
}

// hasControl reports ASCII control characters (browsers drop tab, CR and LF
// from URLs, which can turn "/\t/evil" into "//evil").
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// scopes are the configured scopes or, when none are, the defaults plus
// the optional scopes the IdP lists (Dex puts groups in its tokens only
// when the groups scope is asked for).
func (f *Flow) scopes(eps Endpoints) []string {
	if len(f.cfg.Scopes) > 0 {
		return f.cfg.Scopes
	}
	out := defaultScopes
	for _, s := range discoveredScopes {
		if slices.Contains(eps.ScopesSupported, s) {
			out = append(slices.Clip(out), s)
		}
	}
	return out
}
