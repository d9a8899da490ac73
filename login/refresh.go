package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/idgate/idgate/decision"
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

// errRefreshIdentity ends a session whose refreshed ID token does not
// verify or names someone else.
var errRefreshIdentity = errors.New("login: refresh: id token refused")

// Session returns the identity and access token of the request's session
// cookie, refreshing the access token when it is within RefreshMargin of
// expiring. It returns false when there is no usable session; SetCookie then
// clears the cookie if the session has ended (deleted, expired, refresh
// refused), but not when the store merely failed. The session cookie is read
// under its current name; a cookie under the legacy name (an older idgate's
// session, or one planted by a sibling subdomain) is never accepted and is
// cleared, so the browser logs in again.
func (f *Flow) Session(ctx context.Context, req *decision.Request) (decision.SessionInfo, bool) {
	var res decision.SessionInfo
	var clear []string
	for _, name := range []string{f.sessionCookieName(), f.legacySessionCookieName()} {
		if name == "" {
			continue
		}
		for _, v := range cookieValues(req.Headers["cookie"], name, maxCookieTries) {
			sess, err := f.cfg.Sessions.Get(ctx, v)
			if err == nil && sess.CookieName != name {
				// Planted under a name it was not issued under, or made by an
				// idgate before this one (no CookieName): its identity was
				// built under older claim rules (an unverified email as the
				// user id, trimmed groups), so the user logs in again.
				err = session.ErrNoSession
			}
			if errors.Is(err, session.ErrNoSession) {
				clear = append(clear, name)
				continue
			}
			if err != nil {
				res.Unavailable = sessionUnavailable(req)
				return res, false
			}
			sess, out := f.fresh(ctx, v, sess)
			switch out {
			case ended:
				clear = append(clear, name)
				continue
			case unavailable:
				res.Unavailable = sessionUnavailable(req)
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
	}
	for _, name := range slices.Compact(clear) {
		res.SetCookie = append(res.SetCookie, f.clearSessionCookie(name))
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
	case errors.Is(err, errRefreshIdentity):
		_ = f.cfg.Sessions.Delete(ctx, cookie)
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

// doRefresh redeems the refresh token, renews the identity (see
// refreshedIdentity) and stores the new tokens.
func (f *Flow) doRefresh(ctx context.Context, cookie string, sess *session.Session) (*session.Session, error) {
	eps, ok := f.cfg.Endpoints()
	if !ok || eps.Token == "" {
		return nil, errors.New("login: refresh: token endpoint unknown")
	}
	now := f.cfg.Now()
	tr, err := f.redeemRefresh(ctx, eps.Token, sess.RefreshToken)
	if isInvalidGrant(err) {
		// Another replica may have redeemed it first (rotating refresh
		// tokens): use what it stored.
		if cur, gerr := f.cfg.Sessions.Get(ctx, cookie); gerr == nil && cur.RefreshToken != sess.RefreshToken {
			return cur, nil
		}
		f.logRefusedRefresh(sess, err)
	}
	if err != nil {
		return nil, err
	}
	n := *sess
	if n.Identity, err = f.refreshedIdentity(ctx, sess, tr); err != nil {
		return nil, err
	}
	n.AccessToken = tr.AccessToken
	n.AccessExpiry = tr.expiry(now)
	if tr.RefreshToken != "" {
		n.RefreshToken = tr.RefreshToken
	}
	if tr.IDToken != "" {
		n.IDToken = tr.IDToken // the newest is the best logout hint
	}
	if err := f.cfg.Sessions.Update(ctx, cookie, &n); errors.Is(err, session.ErrNoSession) {
		return nil, errLoggedOut
	}
	// Another store fault: the new tokens serve this request; a later
	// refresh with the old token may then be refused and end the session.
	return &n, nil
}

// logRefusedRefresh reports a refresh the IdP refused: the session ends
// and the user logs in again. Dex keeps one refresh token per user and
// client, so a second login of the same user (another browser, another
// replica's session) silently revokes the first session's; this line says
// why that session ended. It names the IdP's error and description, never
// a token.
func (f *Flow) logRefusedRefresh(sess *session.Session, err error) {
	var te *tokenError
	if !errors.As(err, &te) {
		return
	}
	f.cfg.Logger.Warn("refresh_refused", "issuer", sess.Issuer, "subject", sess.Subject,
		"status", te.Status, "error", te.Code, "error_description", te.Description,
		"effect", "session ended; the user logs in again")
}

// refreshedIdentity is the session's identity as the IdP sees it now, so a
// user removed from a group loses it at the next refresh, not at the end of
// the session. A refreshed ID token is verified like the login's (OIDC Core
// 12.2: same iss and sub, nonce absent or the login's) and replaces the
// identity; one that fails ends the session. Without an ID token, userinfo
// is asked with the new access token and its profile replaces the groups and
// fills the other profile fields; when that lookup fails the groups are
// dropped, and each request's enrichment (which reports itself degraded)
// fills them again. An issuer without userinfo keeps the last identity.
func (f *Flow) refreshedIdentity(ctx context.Context, sess *session.Session, tr *tokenResponse) (identity.Identity, error) {
	if tr.IDToken != "" {
		id, err := f.cfg.IDTokens.VerifyRefreshedIDToken(ctx, tr.IDToken, f.cfg.ClientID, sess.Nonce)
		if err != nil {
			return identity.Identity{}, fmt.Errorf("%w: %w", errRefreshIdentity, err)
		}
		if id.Issuer != sess.Issuer || id.Subject != sess.Subject {
			return identity.Identity{}, fmt.Errorf("%w: iss or sub differs from the login's", errRefreshIdentity)
		}
		id.Source = identity.SourceSession
		return id, nil
	}
	id := sess.Identity
	if f.cfg.Userinfo == nil {
		return id, nil
	}
	p, err := f.cfg.Userinfo.FetchProfile(ctx, sess.Issuer, sess.Subject, tr.AccessToken)
	switch {
	case err != nil:
		id.Groups, id.GroupsOverage = nil, false
	case p != nil:
		replaceProfile(&id, p)
	}
	return id, nil
}

// replaceProfile takes p's groups as they are (none means none) and its
// other profile fields where it has them.
func replaceProfile(id *identity.Identity, p *identity.Profile) {
	if p.Subject != id.Subject {
		id.Groups, id.GroupsOverage = nil, false
		return
	}
	id.Groups, id.GroupsOverage = identity.NormalizeGroups(p.Groups), false
	if p.Email != "" {
		id.Email, id.EmailVerified = p.Email, p.EmailVerified
	}
	for dst, v := range map[*string]string{&id.Name: p.Name, &id.GivenName: p.GivenName,
		&id.FamilyName: p.FamilyName, &id.PreferredUsername: p.PreferredUsername} {
		if v != "" {
			*dst = v
		}
	}
}

// sessionUnavailable is the page for a session that exists but cannot be
// read now.
func sessionUnavailable(req *decision.Request) *decision.Reply {
	return page(http.StatusServiceUnavailable, ReasonSessionStore, "Sign-in unavailable",
		"Your session cannot be checked right now. Please try again in a moment.", safeReturnPath(req.Path))
}
