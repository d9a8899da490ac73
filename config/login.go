package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idgate/idgate/login"
)

// Login configures the browser login that replaces an ALB's
// authenticate-oidc: authorization code + PKCE and a session cookie, all
// answered through Check. It is off while Issuer is empty.
type Login struct {
	// Issuer names the provider to log in with; it must be one of issuers[].
	// Empty disables browser login (browsers then get 401 like API callers). [""]
	Issuer string `mapstructure:"issuer"`
	// ClientID is the OIDC client id registered for idgate. Required with Issuer.
	ClientID string `mapstructure:"client_id"`
	// ClientSecret is the client secret. Secret: never printed. After Load it
	// also holds the contents of ClientSecretFile. [""]
	ClientSecret string `mapstructure:"client_secret"`
	// ClientSecretFile is read at load into ClientSecret; mutually exclusive
	// with ClientSecret. [""]
	ClientSecretFile string `mapstructure:"client_secret_file"`
	// Scopes requested at login; empty requests openid, email, profile and
	// offline_access, plus groups when the issuer's discovery lists it in
	// scopes_supported (Dex puts groups in tokens only for that scope). [none]
	Scopes []string `mapstructure:"scopes"`
	// AuthorizationEndpoint overrides the discovered authorization_endpoint:
	// an absolute http(s) URL, or a path ("/dex/auth") on the request's own
	// scheme and host, for an IdP the browser reaches through the gateway.
	// Required when the login issuer has skip_discovery. [""]
	AuthorizationEndpoint string `mapstructure:"authorization_endpoint"`
	// TokenEndpoint overrides the discovered token_endpoint: an absolute
	// URL, https unless loopback or the login issuer has insecure_http.
	// Required when the login issuer has skip_discovery. [""]
	TokenEndpoint string `mapstructure:"token_endpoint"`
	// CallbackPath is the redirect URI's path, answered by idgate. ["/oauth2/callback"]
	CallbackPath string `mapstructure:"callback_path"`
	// LogoutPath ends the session. ["/oauth2/logout"]
	LogoutPath string `mapstructure:"logout_path"`
	// PostLogoutRedirectURL is where logout lands when the IdP has no
	// end_session_endpoint (and what it is asked to return to). [""]
	PostLogoutRedirectURL string `mapstructure:"post_logout_redirect_url"`
	// Cookie configures the session cookie.
	Cookie Cookie `mapstructure:"cookie"`
	// SessionTTL is a session's absolute life. [12h]
	SessionTTL time.Duration `mapstructure:"session_ttl"`
	// IdleTTL ends a session unused this long; 0 never. [0]
	IdleTTL time.Duration `mapstructure:"idle_ttl"`
	// TokenTimeout bounds each call to the token endpoint (the callback's
	// code exchange, a refresh). The callback's Check takes up to this plus
	// tokens.key_wait plus a session write, which the proxy's ext_authz
	// timeout must exceed (the shipped 3.5s does). [2s]
	TokenTimeout time.Duration `mapstructure:"token_timeout"`
	// SessionKey is the key (≥32 bytes, raw or base64) that encrypts tokens
	// at rest and signs cookies. Secret; usually from IDGATE_LOGIN_SESSION_KEY.
	// Empty with SessionKeyFile empty generates one at start-up: sessions
	// then survive neither a restart nor a second replica. [""]
	SessionKey string `mapstructure:"session_key"`
	// SessionKeyFile holds SessionKey; read at load. [""]
	SessionKeyFile string `mapstructure:"session_key_file"`
	// PreviousSessionKey is the key before the last rotation: sessions
	// written with it are still read. Secret. [""]
	PreviousSessionKey string `mapstructure:"previous_session_key"`
	// PreviousSessionKeyFile holds PreviousSessionKey; read at load. [""]
	PreviousSessionKeyFile string `mapstructure:"previous_session_key_file"`
}

// Cookie configures the session cookie.
type Cookie struct {
	// Name of the session cookie. With secure and no domain it is set as
	// "__Host-" + Name (a sibling subdomain cannot plant it); a cookie
	// still called Name (an older idgate's) is cleared at the next request
	// or logout, and its user logs in again. Each pending login has a
	// host-only cookie "__Host-" + Name + "_state_<tag>" ("__Host-" only
	// when secure). ["idgate_session"]
	Name string `mapstructure:"name"`
	// Domain of the cookie; empty is the request host only. [""]
	Domain string `mapstructure:"domain"`
	// Secure sends the cookie over HTTPS only. [true]
	Secure bool `mapstructure:"secure"`
	// SameSite is lax, strict or none (none requires secure). ["lax"]
	SameSite string `mapstructure:"same_site"`
}

// Enabled reports whether browser login is configured.
func (l *Login) Enabled() bool { return l.Issuer != "" }

// SessionKeys decodes the current and previous session keys (raw when 32
// bytes or longer and not base64, else base64).
func (l *Login) SessionKeys() [][]byte {
	var keys [][]byte
	for _, k := range []string{l.SessionKey, l.PreviousSessionKey} {
		if k != "" {
			keys = append(keys, decodeKey(k))
		}
	}
	return keys
}

func decodeKey(s string) []byte {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b
		}
	}
	return []byte(s)
}

// FlowConfig returns login's settings as the login package takes them,
// from its [login.DefaultConfig]; the caller adds the dependencies.
func (l *Login) FlowConfig() login.Config {
	fc := login.DefaultConfig()
	fc.ClientID, fc.ClientSecret, fc.Scopes = l.ClientID, l.ClientSecret, l.Scopes
	fc.CallbackPath, fc.LogoutPath, fc.PostLogoutRedirectURL = l.CallbackPath, l.LogoutPath, l.PostLogoutRedirectURL
	fc.Cookie = login.CookieConfig{Name: l.Cookie.Name, Domain: l.Cookie.Domain, Secure: l.Cookie.Secure, SameSite: l.Cookie.SameSite}
	fc.Timeout = l.TokenTimeout
	return fc
}

// validateLogin checks what spans keys (the login issuer, its endpoints,
// the session keys) and leaves the flow's own settings to login's rules.
func (c *Config) validateLogin(p *problems) {
	l := &c.Login
	if !l.Enabled() {
		return
	}
	found := false
	for _, is := range c.Issuers {
		found = found || is.Issuer == l.Issuer
	}
	if !found {
		p.addf("login.issuer", "must be one of issuers[].issuer")
	}
	fc := l.FlowConfig()
	for _, err := range fc.Problems("login.") {
		*p = append(*p, fmt.Errorf("config: %w", err))
	}
	c.validateLoginEndpoints(p)
	positive(p, "login.session_ttl", l.SessionTTL)
	nonNegative(p, "login.idle_ttl", l.IdleTTL)
	for i, k := range l.SessionKeys() {
		if len(k) < 32 {
			key := "login.session_key"
			if i == 1 || l.SessionKey == "" {
				key = "login.previous_session_key"
			}
			p.addf(key, "must be at least 32 bytes")
		}
	}
}

// validateLoginEndpoints checks login.authorization_endpoint and
// login.token_endpoint, which the login issuer's skip_discovery requires.
func (c *Config) validateLoginEndpoints(p *problems) {
	l := &c.Login
	var iss Issuer
	for _, is := range c.Issuers {
		if is.Issuer == l.Issuer {
			iss = is
		}
	}
	if a := l.AuthorizationEndpoint; a != "" {
		if strings.HasPrefix(a, "/") {
			if !login.SafeEndpointPath(a) {
				p.addf("login.authorization_endpoint", "%s is not a single-slash absolute path", safeQuote(a))
			}
		} else if err := checkEndpointURL(a, iss.InsecureHTTP, true); err != nil {
			p.addf("login.authorization_endpoint", "%v (or a path such as /dex/auth)", err)
		}
	} else if iss.SkipDiscovery {
		p.addf("login.authorization_endpoint", "required when the login issuer has skip_discovery")
	}
	if t := l.TokenEndpoint; t != "" {
		if err := checkEndpointURL(t, iss.InsecureHTTP, false); err != nil {
			p.addf("login.token_endpoint", "%v", err)
		}
	} else if iss.SkipDiscovery {
		p.addf("login.token_endpoint", "required when the login issuer has skip_discovery")
	}
}

// checkEndpointURL is checkURL, with a query allowed when query is set.
func checkEndpointURL(raw string, insecureHTTP, query bool) error {
	if query {
		if u, err := url.Parse(raw); err == nil && u.Fragment == "" {
			u.RawQuery = ""
			raw = u.String()
		}
	}
	_, err := checkURL(raw, insecureHTTP)
	return err
}

// readLoginSecrets moves the login's secret files into the configuration.
func (c *Config) readLoginSecrets() error {
	l := &c.Login
	for _, f := range []struct {
		key        string
		file, into *string
	}{
		{"login.client_secret_file", &l.ClientSecretFile, &l.ClientSecret},
		{"login.session_key_file", &l.SessionKeyFile, &l.SessionKey},
		{"login.previous_session_key_file", &l.PreviousSessionKeyFile, &l.PreviousSessionKey},
	} {
		if *f.file == "" {
			continue
		}
		if *f.into != "" {
			return fmt.Errorf("config: %s: mutually exclusive with %s", f.key, strings.TrimSuffix(f.key, "_file"))
		}
		v, err := readPasswordFile(*f.file)
		if err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
		*f.into, *f.file = v, ""
	}
	return nil
}
