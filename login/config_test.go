package login

import (
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/session"
)

func validConfig(t *testing.T) Config {
	t.Helper()
	sc := session.DefaultConfig()
	sc.Keys = [][]byte{[]byte(strings.Repeat("k", 32))}
	store, err := session.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ClientID, cfg.ClientSecret = "c", "s3cr3t-value"
	cfg.Endpoints = func() (Endpoints, bool) { return Endpoints{}, false }
	cfg.IDTokens, cfg.Sessions, cfg.Cookie.Secure = wrongNonce{}, store, true
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	f, err := New(validConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c := f.cfg
	if c.CallbackPath != "/oauth2/callback" || c.LogoutPath != "/oauth2/logout" || c.Cookie.Name != "idgate_session" ||
		c.Cookie.SameSite != "lax" || len(c.Scopes) != 0 ||
		c.RefreshMargin.Minutes() != 1 || c.Timeout.Seconds() != 2 || c.HTTPClient == nil || c.Now == nil {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigMustFail(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no client id", func(c *Config) { c.ClientID = "" }, "client_id"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "client_secret"},
		{"no endpoints", func(c *Config) { c.Endpoints = nil }, "endpoints"},
		{"no verifier", func(c *Config) { c.IDTokens = nil }, "id_tokens"},
		{"no store", func(c *Config) { c.Sessions = nil }, "sessions"},
		{"no openid scope", func(c *Config) { c.Scopes = []string{"email"} }, "scopes"},
		{"scope with space", func(c *Config) { c.Scopes = []string{"openid", "a b"} }, "scopes[1]"},
		{"relative callback", func(c *Config) { c.CallbackPath = "oauth2/callback" }, "callback_path"},
		{"callback with query", func(c *Config) { c.CallbackPath = "/cb?x" }, "callback_path"},
		{"protocol-relative logout", func(c *Config) { c.LogoutPath = "//evil" }, "logout_path"},
		{"same paths", func(c *Config) { c.LogoutPath = "/oauth2/callback" }, "logout_path"},
		{"bad cookie name", func(c *Config) { c.Cookie.Name = "a;b" }, "cookie.name"},
		{"bad domain", func(c *Config) { c.Cookie.Domain = "a.example; x" }, "cookie.domain"},
		{"__Host- name without secure", func(c *Config) { c.Cookie.Name, c.Cookie.Secure = "__Host-s", false }, "cookie.name"},
		{"__Host- name with a domain", func(c *Config) { c.Cookie.Name, c.Cookie.Domain = "__Host-s", "example.com" }, "cookie.name"},
		{"none without secure", func(c *Config) { c.Cookie.SameSite, c.Cookie.Secure = "none", false }, "cookie.same_site"},
		{"unknown same site", func(c *Config) { c.Cookie.SameSite = "sometimes" }, "cookie.same_site"},
		{"post logout with CRLF", func(c *Config) { c.PostLogoutRedirectURL = "https://a.example/\r\nx: y" }, "post_logout_redirect_url"},
		{"post logout protocol-relative", func(c *Config) { c.PostLogoutRedirectURL = "//evil.example" }, "post_logout_redirect_url"},
		{"negative margin", func(c *Config) { c.RefreshMargin = -1 }, "refresh_margin"},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(t)
			tc.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "login: "+tc.want) {
				t.Fatalf("New = %v, want an error about %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Fatal("error reveals the client secret")
			}
		})
	}
}

func TestStripCookies(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"only ours", "idgate_session=abc; idgate_session_state=x", ""},
		{"mixed", "a=1; idgate_session=abc;b=2", "a=1; b=2"},
		{"duplicates", "idgate_session=1; idgate_session=2; c=3", "c=3"},
		{"prefix is not a match", "idgate_session_x=1; xidgate_session=2", "idgate_session_x=1; xidgate_session=2"},
		{"spaces around name", " idgate_session =1 ;d=4", "d=4"},
		{"valueless cookie kept", "flag; idgate_session=1", "flag"},
		{"empty parts", ";; a=1 ;", "a=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := stripNamed(tc.in, "idgate_session", "idgate_session_state"); got != tc.want {
				t.Fatalf("StripCookies(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestScopes: without configured scopes the login asks for the defaults and
// for groups when the IdP lists it (Dex puts groups in tokens only then);
// configured scopes are sent exactly.
func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured []string
		supported  []string
		want       string
	}{
		{"no discovery list", nil, nil, "openid email profile offline_access"},
		{"Dex lists groups", nil, []string{"openid", "email", "groups", "profile", "offline_access"}, "openid email profile offline_access groups"},
		{"IdP without groups", nil, []string{"openid", "email"}, "openid email profile offline_access"},
		{"configured wins", []string{"openid", "email"}, []string{"groups"}, "openid email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(t)
			cfg.Scopes = tc.configured
			f, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(f.scopes(Endpoints{ScopesSupported: tc.supported}), " "); got != tc.want {
				t.Fatalf("scopes = %q, want %q", got, tc.want)
			}
			if got := strings.Join(f.scopes(Endpoints{}), " "); tc.configured == nil && got != "openid email profile offline_access" {
				t.Fatalf("defaults changed by an earlier call: %q", got)
			}
		})
	}
}

// stripNamed is stripCookies dropping exactly names.
func stripNamed(cookieHeader string, names ...string) string {
	return stripCookies(cookieHeader, func(name string) bool { return slices.Contains(names, name) })
}
