package login

import (
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

// maxCookieTries bounds how many same-named session cookies are looked up
// (a browser may send one per matching domain or path).
const maxCookieTries = 3

// stripCookies returns cookieHeader without the cookies drop names,
// keeping the others as they were; "" when nothing is left, which means
// the header should be removed.
func stripCookies(cookieHeader string, drop func(name string) bool) string {
	if cookieHeader == "" {
		return ""
	}
	var b strings.Builder
	for part := range cookieParts(cookieHeader) {
		p := strings.TrimSpace(part)
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		if drop(strings.TrimSpace(name)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// cookieParts yields the name=value pairs of a cookie header. Besides ";",
// it splits on ",": a proxy that joins several cookie headers with "," (as
// Envoy's ext_authz request and HTTP/1 header folding may) must not hide one
// of idgate's cookies inside another cookie's value, where it would reach
// the upstream. RFC 6265 cookie values hold no ",".
func cookieParts(cookieHeader string) iter.Seq[string] {
	return strings.FieldsFuncSeq(cookieHeader, func(r rune) bool { return r == ';' || r == ',' })
}

// namedCookie is one cookie of a request.
type namedCookie struct{ name, value string }

// cookiesWithPrefix returns the cookies whose name starts with prefix, at
// most max.
func cookiesWithPrefix(cookieHeader, prefix string, max int) []namedCookie {
	var out []namedCookie
	for part := range cookieParts(cookieHeader) {
		n, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if n = strings.TrimSpace(n); !ok || !strings.HasPrefix(n, prefix) {
			continue
		}
		out = append(out, namedCookie{n, unquote(strings.TrimSpace(v))})
		if len(out) == max {
			break
		}
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// cookieValues returns the values of the cookies called name, at most max.
func cookieValues(cookieHeader, name string, max int) []string {
	var out []string
	for part := range cookieParts(cookieHeader) {
		n, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(n) != name {
			continue
		}
		out = append(out, unquote(strings.TrimSpace(v)))
		if len(out) == max {
			break
		}
	}
	return out
}

// hostPrefix makes a cookie that only this host can set (Secure, Path=/, no
// Domain): a sibling subdomain cannot toss one into the browser.
const hostPrefix = "__Host-"

// Pending logins: each rides in its own state cookie, named by the start of
// its state, so two tabs can log in at once; Start keeps at most
// maxPendingLogins of them and clears the oldest.
const (
	maxPendingLogins = 3
	stateTagLen      = 16
	// maxStateCookies bounds the state cookies a request is searched for.
	maxStateCookies = 2 * maxPendingLogins
)

// baseName is the configured cookie name without a prefix.
func (f *Flow) baseName() string {
	n := strings.TrimPrefix(f.cfg.Cookie.Name, hostPrefix)
	return strings.TrimPrefix(n, "__Secure-")
}

// sessionHostOnly reports whether the session cookie is a __Host- cookie:
// Secure and without a Domain (a shared Domain cannot take the prefix).
func (f *Flow) sessionHostOnly() bool { return f.cfg.Cookie.Secure && f.cfg.Cookie.Domain == "" }

// sessionCookieName is the name the session cookie is set under.
func (f *Flow) sessionCookieName() string {
	if f.sessionHostOnly() {
		return hostPrefix + f.baseName()
	}
	return f.cfg.Cookie.Name
}

// legacySessionCookieName is the name older idgates set the session cookie
// under when it differs from today's ("" otherwise). A cookie under it is
// read only to be cleared (and its session deleted at logout): Session
// accepts a session only under the name it was issued under.
func (f *Flow) legacySessionCookieName() string {
	if n := f.cfg.Cookie.Name; n != f.sessionCookieName() {
		return n
	}
	return ""
}

// statePrefix starts every state cookie's name. State cookies are always
// host-only, and __Host- when Secure: a planted state cookie is a login CSRF.
func (f *Flow) statePrefix() string {
	if f.cfg.Cookie.Secure {
		return hostPrefix + f.baseName() + "_state_"
	}
	return f.baseName() + "_state_"
}

// stateCookieName is the cookie of the login with this state.
func (f *Flow) stateCookieName(state string) string {
	return f.statePrefix() + state[:min(stateTagLen, len(state))]
}

// isOwnCookie reports the names of idgate's cookies, in every form any
// version set them: they never reach the upstream.
func (f *Flow) isOwnCookie(name string) bool {
	base := f.baseName()
	switch name {
	case f.cfg.Cookie.Name, hostPrefix + base, base, base + "_state", f.cfg.Cookie.Name + "_state":
		return true
	}
	return strings.HasPrefix(name, base+"_state_") || strings.HasPrefix(name, hostPrefix+base+"_state_")
}

// StripCookies returns cookieHeader without idgate's cookies (the session
// cookie under its current and legacy names, every state cookie), and ""
// when nothing is left.
func (f *Flow) StripCookies(cookieHeader string) string {
	return stripCookies(cookieHeader, f.isOwnCookie)
}

// cookie renders a Set-Cookie header; maxAge < 0 expires the cookie. A
// cookie whose name starts with __Host- never carries a Domain.
func (f *Flow) cookie(name, value string, maxAge time.Duration, sameSite http.SameSite, domain string) identity.Header {
	if strings.HasPrefix(name, hostPrefix) {
		domain = ""
	}
	c := http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   domain,
		Secure:   f.cfg.Cookie.Secure,
		HttpOnly: true,
		SameSite: sameSite,
	}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0)
	default:
		c.MaxAge = max(1, int(maxAge/time.Second))
	}
	return identity.Header{Name: "set-cookie", Value: c.String()}
}

// sessionSameSite is the configured SameSite of the session cookie.
func (f *Flow) sessionSameSite() http.SameSite {
	switch f.cfg.Cookie.SameSite {
	case "strict":
		return http.SameSiteStrictMode
	case "none":
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

// stateSameSite is lax unless the session cookie is none: the state cookie
// must come back on the IdP's cross-site redirect to the callback.
func (f *Flow) stateSameSite() http.SameSite {
	if f.cfg.Cookie.SameSite == "none" {
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

func (f *Flow) sessionCookie(value string) identity.Header {
	return f.cookie(f.sessionCookieName(), value, f.cfg.Sessions.TTL(), f.sessionSameSite(), f.cfg.Cookie.Domain)
}

// clearSessionCookies expires the session cookie, and the legacy one when
// the request carries it.
func (f *Flow) clearSessionCookies(req *decision.Request) []identity.Header {
	h := []identity.Header{f.clearSessionCookie(f.sessionCookieName())}
	if old := f.legacySessionCookieName(); old != "" && len(cookieValues(req.Headers["cookie"], old, 1)) > 0 {
		h = append(h, f.clearSessionCookie(old))
	}
	return h
}

func (f *Flow) clearSessionCookie(name string) identity.Header {
	return f.cookie(name, "", -1, f.sessionSameSite(), f.cfg.Cookie.Domain)
}

func (f *Flow) clearStateCookie(name string) identity.Header {
	return f.cookie(name, "", -1, f.stateSameSite(), "")
}

func (f *Flow) stateCookie(state, sealed string) identity.Header {
	return f.cookie(f.stateCookieName(state), sealed, f.cfg.Sessions.StateTTL(), f.stateSameSite(), "")
}
