package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/session"
)

// CookieConfig configures the session cookie. With Secure and no Domain it
// is set as "__Host-" + Name; each pending login has its own host-only state
// cookie, Name + "_state_" + the start of its state, "__Host-" when Secure.
type CookieConfig struct {
	// Name of the session cookie. ["idgate_session"]
	Name string
	// Domain of the cookies; empty means the request host only.
	Domain string
	// Secure sends the cookies over HTTPS only; false is for plain-HTTP
	// development only. [true]
	Secure bool
	// SameSite is "lax", "strict" or "none" (requires Secure), in any
	// letter case. ["lax"] The
	// state cookie is always lax (or none) because the IdP's redirect back
	// is a cross-site navigation; with "strict" the callback answers with a
	// page that moves on itself, so the session cookie is sent.
	SameSite string
}

// Endpoints are the IdP endpoints discovery announced.
type Endpoints struct {
	// Authorization is authorization_endpoint, an absolute URL, or a path
	// (such as "/dex/auth") on the scheme and host of the request being
	// logged in. Required for login.
	Authorization string
	// Token is token_endpoint. Required for login.
	Token string
	// EndSession is end_session_endpoint; empty when the IdP has none.
	EndSession string
	// ScopesSupported is the discovery document's scopes_supported.
	ScopesSupported []string
}

// IDTokenVerifier checks an ID token returned to this client: signature,
// iss, aud contains clientID, azp, nonce and expiry. *jwks.Verifier
// implements it.
type IDTokenVerifier interface {
	VerifyIDToken(ctx context.Context, raw, clientID, nonce string) (identity.Identity, error)
	// VerifyRefreshedIDToken checks a refresh's ID token the same way,
	// except that its nonce may be absent (OIDC Core 12.2), and when
	// present must be loginNonce.
	VerifyRefreshedIDToken(ctx context.Context, raw, clientID, loginNonce string) (identity.Identity, error)
}

// ProfileFetcher asks the issuer's userinfo endpoint about a subject with an
// access token, uncached. *userinfo.Resolver implements it.
type ProfileFetcher interface {
	// FetchProfile returns nil and no error when the issuer has no userinfo.
	FetchProfile(ctx context.Context, issuer, subject, accessToken string) (*identity.Profile, error)
}

// Config configures a Flow.
type Config struct {
	// ClientID is idgate's OIDC client. Required.
	ClientID string
	// ClientSecret authenticates ClientID at the token endpoint
	// (client_secret_basic). Never logged nor put in errors. Required.
	ClientSecret string
	// Scopes requested; when set, exactly these, and they must contain
	// openid. Empty: openid email profile offline_access, plus groups when
	// the IdP's discovery lists it in scopes_supported.
	Scopes []string
	// CallbackPath is the redirect URI's path. ["/oauth2/callback"]
	CallbackPath string
	// LogoutPath ends the session; SignOutPath always does too.
	// ["/oauth2/logout"]
	LogoutPath string
	// PostLogoutRedirectURL is where logout lands (via the IdP's
	// end_session_endpoint when it has one). Empty means "/" on the host.
	PostLogoutRedirectURL string
	// Cookie configures the cookies.
	Cookie CookieConfig
	// Endpoints returns the discovered IdP endpoints, false while unknown.
	// Required.
	Endpoints func() (Endpoints, bool)
	// IDTokens verifies the ID token of a login. Required.
	IDTokens IDTokenVerifier
	// Sessions stores sessions and seals login states. Required.
	Sessions *session.Store
	// Userinfo renews a session's profile when a refresh brings no ID
	// token. Nil keeps the profile of the last ID token.
	Userinfo ProfileFetcher
	// RefreshMargin: the access token is refreshed this long before it
	// expires; 0 at expiry. [1m]
	RefreshMargin time.Duration
	// HTTPClient calls the token endpoint. Default: a client that does not
	// follow redirects.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives refresh_refused (a refresh the IdP refused, which
	// ends the session) at WARN. Nil discards it.
	Logger *slog.Logger
	// Timeout bounds each token endpoint call; must be positive. [2s]
	// (idgate's key: login.token_timeout.) A callback takes
	// up to Timeout plus the ID token's key wait plus a store write, which
	// must fit in the proxy's ext_authz timeout.
	Timeout time.Duration
}

// defaultScopes are requested when Config.Scopes is empty, with each of
// discoveredScopes the IdP lists in scopes_supported.
var (
	defaultScopes    = []string{"openid", "email", "profile", "offline_access"}
	discoveredScopes = []string{"groups"}
)

// DefaultConfig returns the default of every setting; the credentials and
// the dependencies (Endpoints, IDTokens, Sessions, Userinfo, HTTPClient,
// Now, Logger) are the caller's. idgate's configuration starts from it, so
// these defaults have one owner.
func DefaultConfig() Config {
	return Config{
		CallbackPath:  "/oauth2/callback",
		LogoutPath:    "/oauth2/logout",
		Cookie:        CookieConfig{Name: "idgate_session", Secure: true, SameSite: "lax"},
		RefreshMargin: time.Minute,
		Timeout:       2 * time.Second,
	}
}

// setDefaults fills in the missing dependencies; a setting is taken as
// written (start from [DefaultConfig]).
func (cfg *Config) setDefaults() {
	cfg.Cookie.SameSite = strings.ToLower(cfg.Cookie.SameSite)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
}

func (cfg *Config) validate() error {
	switch {
	case cfg.Endpoints == nil:
		return errors.New("login: endpoints: required")
	case cfg.IDTokens == nil:
		return errors.New("login: id_tokens: required")
	case cfg.Sessions == nil:
		return errors.New("login: sessions: required")
	}
	if ps := cfg.Problems(""); len(ps) > 0 {
		return fmt.Errorf("login: %w", errors.Join(ps...))
	}
	return nil
}

// Problems returns every problem of the settings (not the dependencies),
// each an error "<prefix><key>: <reason>". New refuses a Config with any;
// these are the only rules for login's settings. With a prefix (config
// passes "login.") keys are named as in idgate's configuration, where
// Timeout is token_timeout; without, as Config's fields.
func (cfg *Config) Problems(prefix string) []error {
	var ps []error
	add := func(key, format string, args ...any) {
		if k, renamed := configKeys[key]; renamed && prefix != "" {
			key = k
		}
		ps = append(ps, fmt.Errorf(prefix+key+": "+format, args...))
	}
	if cfg.ClientID == "" {
		add("client_id", "required")
	}
	if cfg.ClientSecret == "" {
		add("client_secret", "required")
	}
	hasOpenID := false
	for i, s := range cfg.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") || !printableASCII(s) {
			add(fmt.Sprintf("scopes[%d]", i), "invalid scope")
		}
		hasOpenID = hasOpenID || s == "openid"
	}
	if !hasOpenID && len(cfg.Scopes) > 0 {
		add("scopes", "must include openid")
	}
	for _, kp := range [][2]string{{"callback_path", cfg.CallbackPath}, {"logout_path", cfg.LogoutPath}} {
		if p := kp[1]; !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?#\\") || !printableASCII(p) {
			add(kp[0], "%q is not an absolute path", p)
		}
	}
	if u := cfg.PostLogoutRedirectURL; u != "" && !validPostLogoutURL(u) {
		add("post_logout_redirect_url", "not an absolute http(s) URL or a same-host path")
	}
	if cfg.CallbackPath == cfg.LogoutPath {
		add("logout_path", "same as %scallback_path", prefix)
	}
	if cfg.CallbackPath == SignOutPath {
		add("callback_path", "%s is always the logout alias", SignOutPath)
	}
	if cfg.RefreshMargin < 0 {
		add("refresh_margin", "must not be negative")
	}
	if cfg.Timeout <= 0 {
		add("timeout", "must be positive")
	}
	return append(ps, cfg.Cookie.problems(prefix)...)
}

// configKeys names the settings whose key in idgate's configuration is not
// their field's.
var configKeys = map[string]string{"timeout": "token_timeout"}

// validPostLogoutURL accepts an absolute http(s) URL or a path that stays
// on the request's host.
func validPostLogoutURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || !printableASCII(u) {
		return false
	}
	if p.IsAbs() {
		return (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
	}
	return safeReturnPath(u) == u
}

func (c *CookieConfig) problems(prefix string) []error {
	var ps []error
	add := func(key, format string, args ...any) {
		ps = append(ps, fmt.Errorf(prefix+key+": "+format, args...))
	}
	if !validCookieName(c.Name) {
		add("cookie.name", "invalid cookie name %q", c.Name)
	} else if strings.HasPrefix(c.Name, hostPrefix) && (!c.Secure || c.Domain != "") {
		add("cookie.name", "a __Host- name needs %scookie.secure and no %scookie.domain", prefix, prefix)
	}
	if c.Domain != "" && (strings.ContainsAny(c.Domain, "/;, \"\\") || !printableASCII(c.Domain)) {
		add("cookie.domain", "%q is not a domain", c.Domain)
	}
	switch c.SameSite {
	case "lax", "strict":
	case "none":
		if !c.Secure {
			add("cookie.same_site", "none requires %scookie.secure", prefix)
		}
	default:
		add("cookie.same_site", "%q is not one of lax, strict, none", c.SameSite)
	}
	return ps
}

// validCookieName accepts an RFC 6265 token.
func validCookieName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// printableASCII reports whether s holds only printable ASCII (no space
// control characters or bytes ≥ 0x7f).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
