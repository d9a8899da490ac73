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
	// Name of the session cookie. Default "idgate_session".
	Name string
	// Domain of the cookies; empty means the request host only.
	Domain string
	// Secure sends the cookies over HTTPS only. The zero value is false, so
	// callers must set it (idgate's configuration defaults it to true);
	// false is for plain-HTTP development only.
	Secure bool
	// SameSite is "lax" (default), "strict" or "none" (requires Secure). The
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
	// CallbackPath is the redirect URI's path. Default "/oauth2/callback".
	CallbackPath string
	// LogoutPath ends the session. Default "/oauth2/logout". SignOutPath
	// always does too.
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
	// expires. Default 1m.
	RefreshMargin time.Duration
	// HTTPClient calls the token endpoint. Default: a client that does not
	// follow redirects.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives refresh_refused (a refresh the IdP refused, which
	// ends the session) at WARN. Nil discards it.
	Logger *slog.Logger
	// Timeout bounds each token endpoint call. Default 2s. A callback takes
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

func (cfg *Config) setDefaults() {
	if cfg.CallbackPath == "" {
		cfg.CallbackPath = "/oauth2/callback"
	}
	if cfg.LogoutPath == "" {
		cfg.LogoutPath = "/oauth2/logout"
	}
	if cfg.Cookie.Name == "" {
		cfg.Cookie.Name = "idgate_session"
	}
	cfg.Cookie.SameSite = strings.ToLower(cfg.Cookie.SameSite)
	if cfg.Cookie.SameSite == "" {
		cfg.Cookie.SameSite = "lax"
	}
	if cfg.RefreshMargin == 0 {
		cfg.RefreshMargin = time.Minute
	}
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
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
}

func (cfg *Config) validate() error {
	switch {
	case cfg.ClientID == "":
		return errors.New("login: client_id: required")
	case cfg.ClientSecret == "":
		return errors.New("login: client_secret: required")
	case cfg.Endpoints == nil:
		return errors.New("login: endpoints: required")
	case cfg.IDTokens == nil:
		return errors.New("login: id_tokens: required")
	case cfg.Sessions == nil:
		return errors.New("login: sessions: required")
	case cfg.RefreshMargin < 0:
		return errors.New("login: refresh_margin: must not be negative")
	case cfg.Timeout < 0:
		return errors.New("login: timeout: must be positive")
	}
	hasOpenID := false
	for i, s := range cfg.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") || !printableASCII(s) {
			return fmt.Errorf("login: scopes[%d]: invalid scope", i)
		}
		hasOpenID = hasOpenID || s == "openid"
	}
	if !hasOpenID && len(cfg.Scopes) > 0 {
		return errors.New("login: scopes: must contain openid")
	}
	for key, p := range map[string]string{"callback_path": cfg.CallbackPath, "logout_path": cfg.LogoutPath} {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?#\\") || !printableASCII(p) {
			return fmt.Errorf("login: %s: %q is not an absolute path", key, p)
		}
	}
	if u := cfg.PostLogoutRedirectURL; u != "" {
		if p, err := url.Parse(u); err != nil || !printableASCII(u) || (!p.IsAbs() && safeReturnPath(u) != u) {
			return errors.New("login: post_logout_redirect_url: not an absolute URL or a same-host path")
		}
	}
	if cfg.CallbackPath == cfg.LogoutPath {
		return errors.New("login: logout_path: must differ from callback_path")
	}
	if cfg.CallbackPath == SignOutPath {
		return fmt.Errorf("login: callback_path: %s is always the logout alias", SignOutPath)
	}
	return cfg.Cookie.validate()
}

func (c *CookieConfig) validate() error {
	if !validCookieName(c.Name) {
		return fmt.Errorf("login: cookie.name: %q is not a cookie name", c.Name)
	}
	if strings.HasPrefix(c.Name, hostPrefix) && (!c.Secure || c.Domain != "") {
		return fmt.Errorf("login: cookie.name: %q needs cookie.secure and no cookie.domain", c.Name)
	}
	if c.Domain != "" && (strings.ContainsAny(c.Domain, "/;, \"\\") || !printableASCII(c.Domain)) {
		return fmt.Errorf("login: cookie.domain: %q is not a domain", c.Domain)
	}
	switch c.SameSite {
	case "lax", "strict":
	case "none":
		if !c.Secure {
			return errors.New("login: cookie.same_site: none requires cookie.secure")
		}
	default:
		return fmt.Errorf("login: cookie.same_site: %q is not lax, strict or none", c.SameSite)
	}
	return nil
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
