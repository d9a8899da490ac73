package login

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/session"
)

// callback finishes a login: it opens the state cookie of the returned
// state, redeems the code with the PKCE verifier, verifies the ID token and
// its nonce, stores the session and sends the browser back where it started.
// Only success clears the state cookie, so a callback cut short (a slow
// token endpoint, Envoy's deadline) can be retried. Every failure is a page,
// never a redirect into another login.
func (f *Flow) callback(ctx context.Context, req *decision.Request, rawQuery string) *decision.Reply {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return page(http.StatusBadRequest, ReasonBadRequest, "Sign-in failed", "The sign-in response is malformed.", "/")
	}
	stateID := q.Get("state")
	if code := q.Get("error"); code != "" {
		back, cookies := "/", []identity.Header(nil)
		if st, reason := f.pendingState(req, stateID); reason == "" { // the login is over
			back, cookies = safeReturnPath(st.ReturnTo), []identity.Header{f.clearStateCookie(f.stateCookieName(st.ID))}
		}
		return page(http.StatusForbidden, ReasonIdPError, "Sign-in refused", idpErrorText(code), back, cookies...)
	}
	if stateID == "" {
		return f.refuse(ReasonStateMissing, "The sign-in response has no state.", "/")
	}
	st, reason := f.pendingState(req, stateID)
	switch reason {
	case ReasonStateCookie:
		return f.refuse(reason, "This sign-in was not started in this browser, has already finished, or cookies are blocked.", "/")
	case ReasonStateInvalid:
		return f.refuse(reason, "This sign-in link has expired.", "/")
	}
	back := safeReturnPath(st.ReturnTo)
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
			"The identity provider could not complete the sign-in. Please try again.", back)
	}
	cookie, err := f.cfg.Sessions.Create(ctx, sess)
	if err != nil {
		return page(http.StatusServiceUnavailable, ReasonSessionStore, "Sign-in unavailable",
			"Sign-in is temporarily unavailable. Please try again in a moment.", back)
	}
	cookies := append([]identity.Header{f.sessionCookie(cookie), f.clearStateCookie(f.stateCookieName(st.ID))},
		f.clearSessionCookies(req)[1:]...) // and a legacy session cookie
	if f.cfg.Cookie.SameSite == "strict" {
		return movingOn(back, ReasonLoginOK, cookies...)
	}
	return redirect(back, ReasonLoginOK, cookies...)
}

// pendingState opens the state cookie of the login with state id. The
// reason is ReasonStateCookie when this browser holds no cookie for it (it
// never started it, or the login finished), ReasonStateInvalid when none of
// its cookies opens to this state (expired, forged, another key).
func (f *Flow) pendingState(req *decision.Request, id string) (session.State, string) {
	if !wellFormedRandom(id) {
		return session.State{}, ReasonStateInvalid
	}
	values := cookieValues(req.Headers["cookie"], f.stateCookieName(id), maxCookieTries)
	if len(values) == 0 {
		return session.State{}, ReasonStateCookie
	}
	for _, v := range values {
		st, err := f.cfg.Sessions.OpenState(v)
		if err == nil && subtle.ConstantTimeCompare([]byte(st.ID), []byte(id)) == 1 {
			return st, ""
		}
	}
	return session.State{}, ReasonStateInvalid
}

// refuse is the 403 page of a login that cannot go on, with a link the user
// may follow to start over. It leaves the state cookies alone: they expire,
// and Start prunes them.
func (f *Flow) refuse(reason, message, back string) *decision.Reply {
	return page(http.StatusForbidden, reason, "Sign-in failed", message, back)
}

// redeem exchanges the code and verifies the ID token. On failure it
// returns nil and a reason.
func (f *Flow) redeem(ctx context.Context, req *decision.Request, code string, st session.State) (*session.Session, string) {
	eps, ok := f.cfg.Endpoints()
	redirectURI, hostOK := f.redirectURI(req)
	if !ok || eps.Token == "" || !hostOK {
		return nil, ReasonTokenExchange
	}
	now := f.cfg.Now()
	tr, err := f.exchange(ctx, eps.Token, redirectURI, code, st.Verifier)
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
		Nonce:        st.Nonce,
		CookieName:   f.sessionCookieName(),
	}, ""
}
