package config

import (
	"strings"
	"testing"
)

// TestLoginRulesAreLogins: the login settings obey login's own rules, once:
// what login.New would refuse at start-up, Load refuses, naming the key
// (before, config let "//" and "\" paths through to fail later, or not at
// all).
func TestLoginRulesAreLogins(t *testing.T) {
	const base = "issuers: [{issuer: 'https://idp.example.com', audiences: [a]}]\n" +
		"login: {issuer: 'https://idp.example.com', client_id: c, client_secret: s, "
	tests := []struct {
		name, login string
		want        string // "" loads
	}{
		{"defaults", "}", ""},
		{"same site in capitals", "cookie: {same_site: Strict}}", ""},
		{"protocol-relative callback", "callback_path: '//evil/cb'}", `login.callback_path: "//evil/cb" is not an absolute path`},
		{"backslash logout", "logout_path: '/\\evil'}", `login.logout_path: "/\\evil" is not an absolute path`},
		{"non-ASCII callback", "callback_path: '/cb/é'}", "login.callback_path:"},
		{"post logout javascript", "post_logout_redirect_url: 'javascript:alert(1)'}", "login.post_logout_redirect_url: not an absolute http(s) URL or a same-host path"},
		{"post logout protocol-relative", "post_logout_redirect_url: '//evil.example'}", "login.post_logout_redirect_url:"},
		{"post logout same-host path", "post_logout_redirect_url: /bye}", ""},
		{"scope with a quote", "scopes: [openid, 'a\"b']}", "login.scopes[1]: invalid scope"},
		{"cookie domain with a semicolon", "cookie: {domain: 'a.example;x'}}", "login.cookie.domain:"},
		{"token timeout negative", "token_timeout: -1s}", "login.token_timeout: must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(base+tc.login), nil)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if fc := c.Login.FlowConfig(); len(fc.Problems("")) != 0 {
					t.Fatalf("loaded, but login refuses it: %v", fc.Problems(""))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "config: "+tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("one problem reported several times: %v", err)
			}
		})
	}
}
