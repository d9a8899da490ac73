package login

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The OAuth 2.0 protocol (PKCE, the code exchange, the refresh grant and
// the token endpoint's answers and refusals) is golang.org/x/oauth2's; this
// file adds idgate's rules on top: client_secret_basic and nothing else (no
// second request in another style), Timeout on each call, the injected
// clock for expiry, a Bearer token_type, and refusals reduced to their
// status, error code and a clipped description, never the body. x/oauth2
// reads at most 1 MiB of a token response; a longer one does not parse.

// tokenResponse is what idgate keeps of a token endpoint's answer.
type tokenResponse struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	// ExpiresIn is expires_in in seconds; 0 when the IdP did not say.
	ExpiresIn int64
}

// maxExpiresIn bounds expires_in; a larger one is not a duration.
const maxExpiresIn = 1e9

// expiry is when the access token expires, zero when the IdP did not say.
func (r *tokenResponse) expiry(now time.Time) time.Time {
	if r.ExpiresIn <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(r.ExpiresIn) * time.Second)
}

// tokenError is a refusal from the token endpoint. It carries only the
// status, the RFC 6749 error code and a clipped error_description, never a
// token.
type tokenError struct {
	Status      int
	Code        string
	Description string // printable ASCII, at most maxErrorDescription bytes
}

// maxErrorDescription bounds the IdP's error_description kept for the log.
const maxErrorDescription = 200

// cleanDescription keeps an error_description fit for a log line:
// printable ASCII only, at most maxErrorDescription bytes.
func cleanDescription(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxErrorDescription; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (e *tokenError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("login: token endpoint: status %d", e.Status)
	}
	return fmt.Sprintf("login: token endpoint: status %d: %s", e.Status, e.Code)
}

// isInvalidGrant reports a definite refusal of a code or refresh token, as
// opposed to a fault of the IdP or the network.
func isInvalidGrant(err error) bool {
	var te *tokenError
	return errors.As(err, &te) && (te.Code == "invalid_grant" || te.Status == http.StatusBadRequest)
}

// oauthConfig is the client as x/oauth2 sees it, for one call to
// tokenURL. The style is explicit: AutoDetect would retry a refused call
// with the secret in the body, doubling requests (and a refresh token's
// redemptions).
func (f *Flow) oauthConfig(tokenURL, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     f.cfg.ClientID,
		ClientSecret: f.cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  redirectURI,
	}
}

// authParams are the authorization request's parameters (RFC 6749 4.1.1,
// PKCE S256 of verifier, the OIDC nonce), as x/oauth2 writes them. The
// caller sets them on the authorization endpoint's URL, replacing any the
// endpoint's own query has.
func (f *Flow) authParams(redirectURI string, scopes []string, state, verifier, nonce string) url.Values {
	conf := &oauth2.Config{ClientID: f.cfg.ClientID, RedirectURL: redirectURI, Scopes: scopes}
	// With no AuthURL the result is "?" and the encoded parameters.
	raw := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))
	params, _ := url.ParseQuery(strings.TrimPrefix(raw, "?")) // x/oauth2 encoded them
	return params
}

// setParams sets params on u's query, replacing values u already has.
func setParams(u *url.URL, params url.Values) {
	q := u.Query()
	maps.Copy(q, params)
	u.RawQuery = q.Encode()
}

// exchange redeems an authorization code with its PKCE verifier.
func (f *Flow) exchange(ctx context.Context, tokenURL, redirectURI, code, verifier string) (*tokenResponse, error) {
	conf := f.oauthConfig(tokenURL, redirectURI)
	return f.callToken(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		return conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	})
}

// redeemRefresh redeems a refresh token. The answer's RefreshToken is the
// new one, or refreshToken when the IdP did not rotate it.
func (f *Flow) redeemRefresh(ctx context.Context, tokenURL, refreshToken string) (*tokenResponse, error) {
	conf := f.oauthConfig(tokenURL, "")
	return f.callToken(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	})
}

// callToken runs one token endpoint call within Timeout on the Flow's
// HTTP client and checks its answer.
func (f *Flow) callToken(ctx context.Context, call func(context.Context) (*oauth2.Token, error)) (*tokenResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, acceptJSON(f.cfg.HTTPClient))
	tok, err := call(ctx)
	if err != nil {
		return nil, tokenCallError(err)
	}
	return checkToken(tok)
}

// tokenCallError keeps of a failed call what may be logged: a refusal
// becomes a tokenError (x/oauth2's RetrieveError carries the body), a
// transport or parse fault is wrapped as it is.
func tokenCallError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("login: token endpoint: %w", err)
	}
	te := &tokenError{Description: cleanDescription(re.ErrorDescription)}
	if re.Response != nil {
		te.Status = re.Response.StatusCode
	}
	if validErrorCode(re.ErrorCode) {
		te.Code = re.ErrorCode
	}
	return te
}

// checkToken refuses an answer that is not a Bearer token with a sane
// expires_in and a string id_token.
func checkToken(tok *oauth2.Token) (*tokenResponse, error) {
	if tok.AccessToken == "" {
		return nil, errors.New("login: token endpoint: no access_token")
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return nil, fmt.Errorf("login: token endpoint: token_type %q is not Bearer", clip(tok.TokenType))
	}
	tr := &tokenResponse{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, ExpiresIn: tok.ExpiresIn}
	if tr.ExpiresIn == 0 { // a form-encoded answer: x/oauth2 parsed only Expiry, on its own clock
		if n, ok := tok.Extra("expires_in").(int64); ok {
			tr.ExpiresIn = n
		}
	}
	if tr.ExpiresIn < 0 || tr.ExpiresIn > maxExpiresIn {
		return nil, errors.New("login: token endpoint: expires_in: not a duration")
	}
	switch v := tok.Extra("id_token").(type) {
	case nil:
	case string:
		tr.IDToken = v
	default:
		return nil, errors.New("login: token endpoint: id_token is not a string")
	}
	return tr, nil
}

// acceptJSON is c sending "Accept: application/json" with each request, as
// idgate's token requests always have (x/oauth2 sends no Accept).
func acceptJSON(c *http.Client) *http.Client {
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	n := *c
	n.Transport = acceptJSONTransport{base}
	return &n
}

type acceptJSONTransport struct{ base http.RoundTripper }

func (t acceptJSONTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Accept", "application/json")
	return t.base.RoundTrip(req)
}

// clip shortens a value the IdP chose before it goes into an error.
func clip(s string) string {
	if len(s) > 32 || !printableASCII(s) {
		return "(unprintable)"
	}
	return s
}
