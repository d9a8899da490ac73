package login

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/userinfo"
)

// mapCache is an in-memory userinfo.Cache.
type mapCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *mapCache) Get(_ context.Context, k string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok, nil
}

func (c *mapCache) Set(_ context.Context, k string, v []byte, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
	return nil
}

// withUserinfo gives the flow a real userinfo.Resolver on devidp's endpoint.
func withUserinfo(e *env) {
	cfg := userinfo.DefaultConfig()
	cfg.Timeout = 2 * time.Second
	cfg.Endpoint = func(string) string { return e.idp.Issuer() + "/userinfo" }
	cfg.Now = e.clk.Now
	r, err := userinfo.New(cfg, &mapCache{m: map[string][]byte{}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(r.Close)
	e.flow.cfg.Userinfo = r
}

// refreshAnswers makes devidp's token endpoint answer a refresh with an
// access token for sub and, when idClaims is not nil, an ID token with them.
func refreshAnswers(t *testing.T, e *env, sub string, idClaims map[string]any, alg string) {
	t.Helper()
	exp := e.clk.Now().Add(3 * time.Hour).Unix() // minted before the clock moves to the refresh
	at, err := e.idp.Mint(map[string]any{"sub": sub, "exp": exp}, devidp.MintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-" + randomString()}
	if idClaims != nil {
		idClaims["exp"] = exp
		var it string
		if alg == "HS256" {
			it, err = e.idp.MintHS256WithPublicKey(idClaims)
		} else {
			it, err = e.idp.Mint(idClaims, devidp.MintOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		body["id_token"] = it
	}
	b, _ := json.Marshal(body)
	e.idp.SetFault("token", devidp.Fault{Status: http.StatusOK, Body: string(b)})
}

// A user removed from a group at the IdP loses it at the next refresh, not
// at the end of the session; a refresh whose ID token does not hold ends it.
func TestRefreshRenewsIdentity(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, e *env, sub string)
		wantOK     bool
		wantGroups []string
	}{
		{"refreshed id token drops a group", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, sub, map[string]any{"sub": sub, "email": "dev@example.com", "email_verified": true, "groups": []string{"dev"}}, "")
		}, true, []string{"dev"}},
		{"refreshed id token with the login's nonce", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, sub, map[string]any{"sub": sub, "email": "dev@example.com", "nonce": e.lastNonce, "groups": []string{"dev"}}, "")
		}, true, []string{"dev"}},
		{"refreshed id token for another subject", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, "mallory", map[string]any{"sub": "mallory", "groups": []string{"admins"}}, "")
		}, false, nil},
		{"refreshed id token with another nonce", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, sub, map[string]any{"sub": sub, "nonce": "other", "groups": []string{"admins"}}, "")
		}, false, nil},
		{"refreshed id token for another client", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, sub, map[string]any{"sub": sub, "aud": "other-client", "groups": []string{"admins"}}, "")
		}, false, nil},
		{"refreshed id token signed with HMAC", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, sub, map[string]any{"sub": sub, "groups": []string{"admins"}}, "HS256")
		}, false, nil},
		{"no id token: userinfo has the groups now", func(t *testing.T, e *env, sub string) {
			withUserinfo(e)
			e.idp.SetUserinfo(sub, map[string]any{"email": "dev@example.com", "groups": []string{"dev"}})
			refreshAnswers(t, e, sub, nil, "")
		}, true, []string{"dev"}},
		{"no id token: userinfo fails, groups dropped", func(t *testing.T, e *env, sub string) {
			withUserinfo(e)
			refreshAnswers(t, e, sub, nil, "")
			e.idp.SetFault("userinfo", devidp.Fault{Status: http.StatusServiceUnavailable})
		}, true, nil},
		{"no id token and no userinfo: the last identity stays", func(t *testing.T, e *env, sub string) {
			refreshAnswers(t, e, sub, nil, "")
		}, true, []string{"admins", "dev"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, b := loggedIn(t, envOptions{})
			before, ok := e.flow.Session(t.Context(), b.get("/"))
			if !ok || !slices.Equal(before.Identity.Groups, []string{"admins", "dev"}) {
				t.Fatalf("login groups = %v, %v", before.Identity.Groups, ok)
			}
			tc.setup(t, e, before.Identity.Subject)
			e.clk.Advance(time.Hour)
			res, ok := e.flow.Session(t.Context(), b.get("/"))
			if ok != tc.wantOK {
				t.Fatalf("Session after refresh = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				if len(res.SetCookie) != 1 || !strings.Contains(res.SetCookie[0].Value, "Max-Age=0") {
					t.Fatalf("ended session not cleared: %q", res.SetCookie)
				}
				e.idp.SetFault("token", devidp.Fault{})
				if _, ok := e.flow.Session(t.Context(), b.get("/")); ok {
					t.Fatal("the session survived a refused refresh")
				}
				return
			}
			if !slices.Equal(res.Identity.Groups, tc.wantGroups) || res.Identity.Subject != before.Identity.Subject ||
				res.AccessToken == before.AccessToken {
				t.Fatalf("after refresh: groups %v (want %v), sub %q, new token %v",
					res.Identity.Groups, tc.wantGroups, res.Identity.Subject, res.AccessToken != before.AccessToken)
			}
			again, _ := e.flow.Session(t.Context(), b.get("/"))
			if !slices.Equal(again.Identity.Groups, tc.wantGroups) {
				t.Fatalf("stored groups %v, want %v", again.Identity.Groups, tc.wantGroups)
			}
		})
	}
}
