package login

import (
	"net/http"
	"strings"
	"time"

	"github.com/idgate/idgate/identity"
)

// maxCookieTries bounds how many same-named session cookies are looked up
// (a browser may send one per matching domain or path).
const maxCookieTries = 3

// StripCookies returns cookieHeader without the cookies called names,
// keeping the others as they were. It returns "" when nothing is left, which
// means the header should be removed.
func StripCookies(cookieHeader string, names ...string) string {
	if cookieHeader == "" {
		return ""
	}
	var b strings.Builder
	for part := range strings.SplitSeq(cookieHeader, ";") {
		p := strings.TrimSpace(part)
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		name = strings.TrimSpace(name)
		drop := false
		for _, n := range names {
			if name == n {
				drop = true
				break
			}
		}
		if drop {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// cookieValues returns the values of the cookies called name, at most max.
func cookieValues(cookieHeader, name string, max int) []string {
	var out []string
	for part := range strings.SplitSeq(cookieHeader, ";") {
		n, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(n) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, v)
		if len(out) == max {
			break
		}
	}
	return out
}

func (f *Flow) stateCookieName() string { return f.cfg.Cookie.Name + "_state" }

// cookie renders a Set-Cookie header; maxAge < 0 expires the cookie.
func (f *Flow) cookie(name, value string, maxAge time.Duration, sameSite http.SameSite) identity.Header {
	c := http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   f.cfg.Cookie.Domain,
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
	return f.cookie(f.cfg.Cookie.Name, value, f.cfg.Sessions.TTL(), f.sessionSameSite())
}

func (f *Flow) clearSessionCookie() identity.Header {
	return f.cookie(f.cfg.Cookie.Name, "", -1, f.sessionSameSite())
}

func (f *Flow) stateCookie(value string) identity.Header {
	return f.cookie(f.stateCookieName(), value, f.cfg.Sessions.StateTTL(), f.stateSameSite())
}

func (f *Flow) clearStateCookie() identity.Header {
	return f.cookie(f.stateCookieName(), "", -1, f.stateSameSite())
}
