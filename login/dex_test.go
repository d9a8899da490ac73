package login

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testlog"
)

// TestDexGroupsNeedTheScope reproduces Dex, which puts groups in tokens
// only when the groups scope is asked for: with no login.scopes, a login
// asks for it when discovery lists it, and the user has groups; an IdP that
// does not list it is not asked, and configured scopes are sent exactly.
func TestDexGroupsNeedTheScope(t *testing.T) {
	dexScopes := []string{"openid", "email", "profile", "groups", "offline_access"}
	tests := []struct {
		name       string
		supported  []string
		configured []string
		wantGroups []string
	}{
		{name: "default scopes, discovery lists groups", supported: dexScopes, wantGroups: []string{"admins", "dev"}},
		{name: "default scopes, no scopes_supported", supported: nil, wantGroups: nil},
		{name: "configured with groups", configured: []string{"openid", "email", "groups"}, wantGroups: []string{"admins", "dev"}},
		{name: "configured without groups", supported: dexScopes, configured: []string{"openid", "email"}, wantGroups: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{idp: devidp.Options{GroupsNeedScope: true}, edit: func(c *Config) { c.Scopes = tc.configured }})
			e.eps.ScopesSupported = tc.supported
			b := newBrowser()
			e.MustLogin(b, "/")
			res, ok := e.flow.Session(t.Context(), b.get("/"))
			if !ok {
				t.Fatal("no session after login")
			}
			got := slices.Sorted(slices.Values(res.Identity.Groups))
			if !slices.Equal(got, tc.wantGroups) {
				t.Fatalf("groups = %q, want %q", got, tc.wantGroups)
			}
		})
	}
}

// TestDexOneRefreshTokenPerUser reproduces Dex's one refresh token per user
// and client: a second login of the same user revokes the first session's
// refresh token. The first session's refresh is refused; it ends cleanly
// (cookie cleared, the browser logs in again), and refresh_refused is
// logged at WARN with the IdP's error and description, never a token. The
// second session refreshes normally.
func TestDexOneRefreshTokenPerUser(t *testing.T) {
	var logs testlog.Buffer
	e := MustEnv(t, envOptions{idp: devidp.Options{OneRefreshTokenPerUser: true},
		edit: func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) }})
	ctx := t.Context()
	first, second := newBrowser(), newBrowser()
	e.MustLogin(first, "/")
	firstSession, _ := e.flow.Session(ctx, first.get("/"))
	e.MustLogin(second, "/") // the same user, another browser: Dex replaces the refresh token
	e.clk.Advance(time.Hour) // both access tokens expired: the next request refreshes

	res, ok := e.flow.Session(ctx, first.get("/"))
	if ok || res.Unavailable != nil || len(res.SetCookie) != 1 || !strings.Contains(res.SetCookie[0].Value, "Max-Age=0") {
		t.Fatalf("first session after its refresh was refused: ok=%v unavailable=%v SetCookie=%q; want it ended and cleared",
			ok, res.Unavailable != nil, res.SetCookie)
	}
	if r := e.flow.Start(ctx, first.get("/")); r.Status != 302 {
		t.Fatalf("the first browser cannot log in again: %d", r.Status)
	}
	line := logs.String()
	for _, want := range []string{`"level":"WARN"`, `"msg":"refresh_refused"`, `"error":"invalid_grant"`,
		`"error_description":"Refresh token is invalid or has already been claimed by another client."`,
		`"subject":"dev-user"`, `"status":400`} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %s:\n%s", want, line)
		}
	}
	for _, secret := range []string{firstSession.AccessToken, first.cookies[sessionName], e.idp.ClientSecret(), "eyJ"} {
		if secret != "" && strings.Contains(line, secret) {
			t.Errorf("the log carries a token or secret %.12q...", secret)
		}
	}
	if n := strings.Count(line, "refresh_refused"); n != 1 {
		t.Errorf("%d refresh_refused lines, want 1", n)
	}
	if res, ok := e.flow.Session(ctx, second.get("/")); !ok || res.AccessToken == "" {
		t.Fatal("the second session's refresh failed")
	}
}

func TestCleanDescription(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Refresh token expired", "Refresh token expired"},
		{"control characters", "bad\r\ninjected: x\x00", "bad??injected: x?"},
		{"non-ASCII", "é", "??"},
		{"long", strings.Repeat("a", 500), strings.Repeat("a", maxErrorDescription)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanDescription(tc.in); got != tc.want {
				t.Fatalf("cleanDescription(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
