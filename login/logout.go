package login

import (
	"context"
	"net/url"

	"github.com/idgate/idgate/decision"
)

// logout ends the session and clears the cookies, then sends the browser to
// the IdP's end_session_endpoint (RP-initiated logout) when it has one, else
// to PostLogoutRedirectURL, else to "/".
func (f *Flow) logout(ctx context.Context, req *decision.Request) *decision.Reply {
	idToken := ""
	for _, name := range []string{f.sessionCookieName(), f.legacySessionCookieName()} {
		if name == "" {
			continue
		}
		for _, v := range cookieValues(req.Headers["cookie"], name, maxCookieTries) {
			if sess, err := f.cfg.Sessions.Get(ctx, v); err == nil && idToken == "" {
				idToken = sess.IDToken
			}
			_ = f.cfg.Sessions.Delete(ctx, v) // a store fault leaves it to expire
		}
	}
	target := f.cfg.PostLogoutRedirectURL
	if target == "" {
		target = "/"
	}
	if eps, ok := f.cfg.Endpoints(); ok && eps.EndSession != "" {
		// Only a web URL: the session's ID token rides along as
		// id_token_hint, and a discovery document saying javascript: or
		// data: must not get it (nor the browser) anywhere.
		if u, err := url.Parse(eps.EndSession); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			q := u.Query()
			q.Set("client_id", f.cfg.ClientID)
			if idToken != "" {
				q.Set("id_token_hint", idToken)
			}
			if f.cfg.PostLogoutRedirectURL != "" {
				q.Set("post_logout_redirect_uri", f.cfg.PostLogoutRedirectURL)
			}
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	return redirect(target, ReasonLogout, f.clearSessionCookies(req)...)
}
