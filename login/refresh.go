package login

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/session"
)

// storeSlack is added to Timeout for the store calls of a shared refresh.
const storeSlack = time.Second

// outcome of looking at a session.
type outcome int

const (
	live        outcome = iota // usable
	ended                      // gone for good: clear the cookie
	unavailable                // a fault (store, caller's deadline): keep the cookie
)

var errLoggedOut = errors.New("login: session ended during refresh")

// Session returns the identity and access token of the request's session
// cookie, refreshing the access token when it is within RefreshMargin of
// expiring. It returns false when there is no usable session; SetCookie then
// clears the cookie if the session has ended (deleted, expired, refresh
// refused), but not when the store merely failed.
func (f *Flow) Session(ctx context.Context, req *Request) (SessionResult, bool) {
	res := SessionResult{CookieHeader: f.strippedCookies(req)}
	clear := false
	for _, v := range cookieValues(req.Headers["cookie"], f.cfg.Cookie.Name, maxCookieTries) {
		sess, err := f.cfg.Sessions.Get(ctx, v)
		if errors.Is(err, session.ErrNoSession) {
			clear = true
			continue
		}
		if err != nil {
			return res, false
		}
		sess, out := f.fresh(ctx, v, sess)
		switch out {
		case ended:
			clear = true
			continue
		case unavailable:
			return res, false
		}
		res.Identity = sess.Identity
		res.Identity.Source = identity.SourceSession
		if !sess.AccessExpiry.IsZero() {
			res.Identity.ExpiresAt = sess.AccessExpiry
		}
		res.AccessToken = sess.AccessToken
		return res, true
	}
	if clear {
		res.SetCookie = []identity.Header{f.clearSessionCookie()}
	}
	return res, false
}

// fresh refreshes sess when its access token is about to expire.
func (f *Flow) fresh(ctx context.Context, cookie string, sess *session.Session) (*session.Session, outcome) {
	now := f.cfg.Now()
	if sess.AccessExpiry.IsZero() || now.Add(f.cfg.RefreshMargin).Before(sess.AccessExpiry) {
		return sess, live
	}
	expired := !now.Before(sess.AccessExpiry)
	if sess.RefreshToken == "" {
		if expired {
			_ = f.cfg.Sessions.Delete(ctx, cookie)
			return nil, ended
		}
		return sess, live
	}
	n, err := f.refresh(ctx, cookie, sess)
	switch {
	case err == nil:
		return n, live
	case errors.Is(err, errLoggedOut):
		return nil, ended
	case ctx.Err() != nil:
		return nil, unavailable
	case !expired && !isInvalidGrant(err):
		return sess, live // the IdP is down but the token still works
	}
	_ = f.cfg.Sessions.Delete(ctx, cookie)
	return nil, ended
}

// refresh runs one refresh per session at a time; concurrent requests of
// the same browser share it, each waiting on its own deadline.
func (f *Flow) refresh(ctx context.Context, cookie string, sess *session.Session) (*session.Session, error) {
	ch := f.refreshes.DoChan(cookie, func() (any, error) {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.Timeout+storeSlack)
		defer cancel()
		return f.doRefresh(bg, cookie, sess)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		n := *r.Val.(*session.Session)
		return &n, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// doRefresh redeems the refresh token and stores the new tokens. The
// identity stays the login's verified snapshot, and the login's ID token
// stays the logout hint: a refreshed ID token carries no nonce to check.
func (f *Flow) doRefresh(ctx context.Context, cookie string, sess *session.Session) (*session.Session, error) {
	eps, ok := f.cfg.Endpoints()
	if !ok || eps.Token == "" {
		return nil, errors.New("login: refresh: token endpoint unknown")
	}
	now := f.cfg.Now()
	tr, err := f.callToken(ctx, eps.Token, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {sess.RefreshToken},
	})
	if isInvalidGrant(err) {
		// Another replica may have redeemed it first (rotating refresh
		// tokens): use what it stored.
		if cur, gerr := f.cfg.Sessions.Get(ctx, cookie); gerr == nil && cur.RefreshToken != sess.RefreshToken {
			return cur, nil
		}
	}
	if err != nil {
		return nil, err
	}
	n := *sess
	n.AccessToken = tr.AccessToken
	n.AccessExpiry = tr.expiry(now)
	if tr.RefreshToken != "" {
		n.RefreshToken = tr.RefreshToken
	}
	if err := f.cfg.Sessions.Update(ctx, cookie, &n); errors.Is(err, session.ErrNoSession) {
		return nil, errLoggedOut
	}
	// Another store fault: the new tokens serve this request; a later
	// refresh with the old token may then be refused and end the session.
	return &n, nil
}
