package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

var errInvalidToken = errors.New("devidp: invalid token")

// maxPending bounds the stored codes and refresh tokens.
const maxPending = 10000

// authCode is an issued, not yet redeemed authorization code.
type authCode struct {
	grant
	redirectURI string
	challenge   string
	nonce       string
	expires     time.Time
}

// grant is what a code or refresh token stands for.
type grant struct {
	user  map[string]any
	scope string
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (p *Provider) redirectAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return false
	}
	return len(p.opts.RedirectURLs) == 0 || slices.Contains(p.opts.RedirectURLs, raw)
}

// handleAuthorize logs the default user in at once and redirects back with
// a code. Errors about the client or redirect_uri are shown, never
// redirected (RFC 6749 section 4.1.2.1).
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != p.opts.ClientID || !p.redirectAllowed(redirect) {
		http.Error(w, "invalid client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		u, _ := url.Parse(redirect)
		extra := u.Query()
		for k, vs := range v {
			extra[k] = vs
		}
		u.RawQuery = extra.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE S256 required"}})
		return
	}
	code := randomToken()
	p.mu.Lock()
	p.pruneLocked()
	p.codes[code] = &authCode{
		grant:       grant{user: maps.Clone(p.defaultUser), scope: q.Get("scope")},
		redirectURI: redirect,
		challenge:   q.Get("code_challenge"),
		nonce:       q.Get("nonce"),
		expires:     p.opts.Now().Add(time.Minute),
	}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// pruneLocked drops expired codes and, past the bound, everything.
func (p *Provider) pruneLocked() {
	now := p.opts.Now()
	for k, c := range p.codes {
		if now.After(c.expires) {
			delete(p.codes, k)
		}
	}
	if len(p.codes) >= maxPending {
		clear(p.codes)
	}
	if len(p.refreshTokens) >= maxPending {
		clear(p.refreshTokens)
		clear(p.userRefresh)
	}
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func (p *Provider) clientAuthenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == p.opts.ClientID &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) == 1
}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if !p.clientAuthenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	var (
		g     *grant
		nonce string
	)
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := p.redeemCode(r.PostForm)
		if c == nil {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		g, nonce = &c.grant, c.nonce
	case "refresh_token":
		p.mu.Lock()
		rt := r.PostForm.Get("refresh_token")
		g = p.refreshTokens[rt]
		delete(p.refreshTokens, rt) // refresh tokens rotate
		p.mu.Unlock()
		if g == nil {
			// Dex's words for a refresh token a later login replaced.
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant",
				"error_description": "Refresh token is invalid or has already been claimed by another client."})
			return
		}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	resp, err := p.issueTokens(g, nonce)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// redeemCode consumes a code once its redirect_uri and PKCE verifier match.
func (p *Provider) redeemCode(form url.Values) *authCode {
	p.mu.Lock()
	c := p.codes[form.Get("code")]
	delete(p.codes, form.Get("code")) // single use, even when the check fails
	p.mu.Unlock()
	if c == nil || p.opts.Now().After(c.expires) || form.Get("redirect_uri") != c.redirectURI {
		return nil
	}
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	if subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
		return nil
	}
	return c
}

// issueTokens mints an access token, an ID token and a fresh refresh token.
func (p *Provider) issueTokens(g *grant, nonce string) (map[string]any, error) {
	now := p.opts.Now()
	base := maps.Clone(g.user)
	if p.opts.GroupsNeedScope && !slices.Contains(strings.Fields(g.scope), "groups") {
		delete(base, "groups")
	}
	base["aud"] = p.opts.ClientID
	base["azp"] = p.opts.ClientID
	base["iat"] = now.Unix()
	base["exp"] = now.Add(time.Hour).Unix()
	access := maps.Clone(base)
	access["scope"] = g.scope
	at, err := p.Mint(access, MintOptions{})
	if err != nil {
		return nil, err
	}
	idc := maps.Clone(base)
	idc["auth_time"] = now.Unix()
	if nonce != "" {
		idc["nonce"] = nonce
	}
	it, err := p.Mint(idc, MintOptions{})
	if err != nil {
		return nil, err
	}
	rt := randomToken()
	p.mu.Lock()
	p.pruneLocked()
	p.refreshTokens[rt] = &grant{user: maps.Clone(g.user), scope: g.scope}
	if sub, _ := g.user["sub"].(string); p.opts.OneRefreshTokenPerUser {
		delete(p.refreshTokens, p.userRefresh[sub])
		p.userRefresh[sub] = rt
	}
	p.mu.Unlock()
	return map[string]any{
		"access_token":  at,
		"id_token":      it,
		"refresh_token": rt,
		"token_type":    "Bearer",
		"expires_in":    3600,
		"scope":         g.scope,
	}, nil
}

// handleLogout ends the session: it redirects to post_logout_redirect_uri
// (with state) when given, else answers with a plain page.
func (p *Provider) handleLogout(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.logouts++
	p.mu.Unlock()
	_ = r.ParseForm()
	target := r.Form.Get("post_logout_redirect_uri")
	if target == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("logged out\n"))
		return
	}
	u, err := url.Parse(target)
	if err != nil || !u.IsAbs() {
		http.Error(w, "invalid post_logout_redirect_uri", http.StatusBadRequest)
		return
	}
	if s := r.Form.Get("state"); s != "" {
		q := u.Query()
		q.Set("state", s)
		u.RawQuery = q.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// Logouts counts requests to the end-session endpoint.
func (p *Provider) Logouts() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logouts
}
