package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

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

// Start begins a login: it remembers the original path and query
// server-side, sets the short-lived state cookie binding this browser, and
// answers 302 to the authorization endpoint. When the IdP's endpoints are
// unknown or the state cannot be stored it answers 503 with a page, never a
// redirect. Callers add the SetCookie of a failed Session to the response.
func (f *Flow) Start(ctx context.Context, req *Request) *Response {
	returnTo := safeReturnPath(req.Path)
	eps, ok := f.cfg.Endpoints()
	if !ok || eps.Authorization == "" {
		return page(http.StatusServiceUnavailable, ReasonLoginUnavailable, "Sign-in unavailable",
			"The identity provider cannot be reached right now. Please try again in a moment.", returnTo)
	}
	authURL, err := url.Parse(eps.Authorization)
	if err != nil || !authURL.IsAbs() {
		return page(http.StatusServiceUnavailable, ReasonLoginUnavailable, "Sign-in unavailable",
			"The identity provider is misconfigured.", "")
	}
	redirectURI, ok := f.redirectURI(req)
	if !ok {
		return page(http.StatusBadRequest, ReasonBadRequest, "Bad request", "The request's host is not valid.", "")
	}
	binding := ""
	for _, v := range cookieValues(req.Headers["cookie"], f.stateCookieName(), 1) {
		if wellFormedRandom(v) { // another tab's login is under way: share its binding
			binding = v
		}
	}
	if binding == "" {
		binding = randomString()
	}
	st := session.State{Verifier: randomString(), Nonce: randomString(), ReturnTo: returnTo, Binding: binding}
	state, err := f.cfg.Sessions.PutState(ctx, st)
	if err != nil {
		return page(http.StatusServiceUnavailable, ReasonSessionStore, "Sign-in unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.", returnTo)
	}
	challenge := sha256.Sum256([]byte(st.Verifier))
	q := authURL.Query()
	q.Set("response_type", "code")
	q.Set("client_id", f.cfg.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("scope", strings.Join(f.cfg.Scopes, " "))
	q.Set("state", state)
	q.Set("nonce", st.Nonce)
	q.Set("code_challenge", b64.EncodeToString(challenge[:]))
	q.Set("code_challenge_method", "S256")
	authURL.RawQuery = q.Encode()
	return redirect(authURL.String(), ReasonLoginRedirect, f.stateCookie(binding))
}

// redirectURI is scheme://host + CallbackPath, false for a host that is not
// a plain host[:port].
func (f *Flow) redirectURI(req *Request) (string, bool) {
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
	return scheme + "://" + req.Host + f.cfg.CallbackPath, true
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
