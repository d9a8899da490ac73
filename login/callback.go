package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/session"
)

// callback finishes a login: it checks the state and the browser's binding,
// redeems the code with the PKCE verifier, verifies the ID token and its
// nonce, stores the session and sends the browser back where it started.
// Every failure is a page, never a redirect into another login.
func (f *Flow) callback(ctx context.Context, req *Request, rawQuery string) *Response {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return page(http.StatusBadRequest, ReasonBadRequest, "Sign-in failed", "The sign-in response is malformed.", "/", f.clearStateCookie())
	}
	stateID := q.Get("state")
	if code := q.Get("error"); code != "" {
		back := "/"
		if st, err := f.cfg.Sessions.TakeState(ctx, stateID); err == nil {
			back = safeReturnPath(st.ReturnTo)
		}
		return page(http.StatusForbidden, ReasonIdPError, "Sign-in refused", idpErrorText(code), back, f.clearStateCookie())
	}
	if stateID == "" {
		return f.refuse(ReasonStateMissing, "The sign-in response has no state.", "/")
	}
	st, err := f.cfg.Sessions.TakeState(ctx, stateID)
	switch {
	case errors.Is(err, session.ErrNoState):
		return f.refuse(ReasonStateInvalid, "This sign-in link has expired or was already used.", "/")
	case err != nil:
		return page(http.StatusServiceUnavailable, ReasonSessionStore, "Sign-in unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.", "/", f.clearStateCookie())
	}
	back := safeReturnPath(st.ReturnTo)
	if resp := f.checkBinding(req, st, back); resp != nil {
		return resp
	}
	code := q.Get("code")
	if code == "" {
		return f.refuse(ReasonCodeMissing, "The sign-in response has no authorization code.", back)
	}
	sess, reason := f.redeem(ctx, req, code, st)
	if sess == nil {
		if reason == ReasonIDTokenInvalid {
			return f.refuse(reason, "The identity provider's answer could not be verified.", back)
		}
		return page(http.StatusBadGateway, reason, "Sign-in failed",
			"The identity provider could not complete the sign-in. Please try again.", back, f.clearStateCookie())
	}
	cookie, err := f.cfg.Sessions.Create(ctx, sess)
	if err != nil {
		return page(http.StatusServiceUnavailable, ReasonSessionStore, "Sign-in unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.", back, f.clearStateCookie())
	}
	if f.cfg.Cookie.SameSite == "strict" {
		return movingOn(back, ReasonLoginOK, f.sessionCookie(cookie), f.clearStateCookie())
	}
	return redirect(back, ReasonLoginOK, f.sessionCookie(cookie), f.clearStateCookie())
}

// checkBinding requires the state cookie this browser got at Start.
func (f *Flow) checkBinding(req *Request, st session.State, back string) *Response {
	values := cookieValues(req.Headers["cookie"], f.stateCookieName(), maxCookieTries)
	if len(values) == 0 {
		return f.refuse(ReasonStateCookie, "This sign-in was not started in this browser, or cookies are blocked.", back)
	}
	for _, v := range values {
		if st.Binding != "" && subtle.ConstantTimeCompare([]byte(v), []byte(st.Binding)) == 1 {
			return nil
		}
	}
	return f.refuse(ReasonStateBinding, "This sign-in was not started in this browser.", back)
}

// refuse is the 403 page of a login that cannot go on; it clears the state
// cookie and offers a link the user may follow to start over.
func (f *Flow) refuse(reason, message, back string) *Response {
	return page(http.StatusForbidden, reason, "Sign-in failed", message, back, f.clearStateCookie())
}

// redeem exchanges the code and verifies the ID token. On failure it
// returns nil and a reason.
func (f *Flow) redeem(ctx context.Context, req *Request, code string, st session.State) (*session.Session, string) {
	eps, ok := f.cfg.Endpoints()
	redirectURI, hostOK := f.redirectURI(req)
	if !ok || eps.Token == "" || !hostOK {
		return nil, ReasonTokenExchange
	}
	now := f.cfg.Now()
	tr, err := f.callToken(ctx, eps.Token, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {st.Verifier},
	})
	if err != nil {
		return nil, ReasonTokenExchange
	}
	if tr.IDToken == "" {
		return nil, ReasonIDTokenInvalid
	}
	id, err := f.cfg.IDTokens.VerifyIDToken(ctx, tr.IDToken, f.cfg.ClientID, st.Nonce)
	if err != nil || id.Subject == "" || id.Issuer == "" {
		return nil, ReasonIDTokenInvalid
	}
	id.Source = identity.SourceSession
	expiry := tr.expiry(now)
	if expiry.IsZero() { // the IdP did not say: the ID token's life is the best hint
		expiry = id.ExpiresAt
	}
	return &session.Session{
		Issuer:       id.Issuer,
		Subject:      id.Subject,
		Identity:     id,
		AccessToken:  tr.AccessToken,
		RefreshToken: tr.RefreshToken,
		IDToken:      tr.IDToken,
		AccessExpiry: expiry,
	}, ""
}
