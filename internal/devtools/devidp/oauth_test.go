package devidp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
)

const redirectURI = "http://127.0.0.1:9/callback"

func userinfoReq(t *testing.T, p *devidp.Provider, tok string) *http.Request {
	t.Helper()
	req := get(t, p.Issuer()+"/userinfo")
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}

func TestUserinfo(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := MustStart(t, devidp.Options{Now: func() time.Time { return now }})
	other := MustStart(t, devidp.Options{})
	claims := map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []string{"g1"}, "secret": "x"}
	valid := MustMint(t, p, claims, devidp.MintOptions{Alg: "ES384"})
	foreign := MustMint(t, other, claims, devidp.MintOptions{Alg: "ES384", KeyID: p.CurrentKeyID("ES384")})
	expired := MustMint(t, p, map[string]any{"sub": "alice", "exp": now.Add(-time.Second).Unix()}, devidp.MintOptions{})
	refused := []struct{ name, tok string }{
		{"empty", ""},
		{"garbage", "a.b.c"},
		{"other provider", foreign},
		{"expired", expired},
		{"alg none", p.MintNone(claims)},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			MustGetJSON(t, userinfoReq(t, p, tc.tok), http.StatusUnauthorized)
		})
	}
	t.Run("token claims", func(t *testing.T) {
		got := MustGetJSON(t, userinfoReq(t, p, valid), http.StatusOK)
		if got["sub"] != "alice" || got["email"] != "alice@example.com" || got["secret"] != nil {
			t.Fatalf("userinfo = %v", got)
		}
	})
	t.Run("SetUserinfo", func(t *testing.T) {
		p.SetUserinfo("alice", map[string]any{"name": "Alice A", "groups": []string{"x", "y"}})
		got := MustGetJSON(t, userinfoReq(t, p, valid), http.StatusOK)
		if got["sub"] != "alice" || got["name"] != "Alice A" || got["email"] != nil {
			t.Fatalf("userinfo = %v", got)
		}
	})
	if n := p.UserinfoCalls(); n != int64(len(refused)+2) {
		t.Fatalf("UserinfoCalls = %d", n)
	}
	if by := p.UserinfoCallsBySubject(); len(by) != 1 || by["alice"] != 2 {
		t.Fatalf("UserinfoCallsBySubject = %v, want alice's 2 answered calls only", by)
	}
}

func TestFaults(t *testing.T) {
	p := MustStart(t, devidp.Options{})
	p.SetJWKSCacheControl("max-age=120")
	resp, err := http.Get(p.Issuer() + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "max-age=120" {
		t.Fatalf("Cache-Control = %q", cc)
	}
	tests := []struct {
		name       string
		endpoint   string
		path       string
		fault      devidp.Fault
		wantStatus int
		wantBody   string
	}{
		{"jwks 500", "jwks", "/jwks", devidp.Fault{Status: 500}, 500, `{"error":"Internal Server Error"}`},
		{"jwks invalid json", "jwks", "/jwks", devidp.Fault{Body: "{not json"}, 200, "{not json"},
		{"discovery 404 body", "discovery", "/.well-known/openid-configuration", devidp.Fault{Status: 404, Body: "nope"}, 404, "nope"},
		{"userinfo delayed 503", "userinfo", "/userinfo", devidp.Fault{Status: 503, Delay: 50 * time.Millisecond}, 503, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.SetFault(tc.endpoint, tc.fault)
			start := time.Now()
			resp, err := http.Get(p.Issuer() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body := make([]byte, 100)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || (tc.wantBody != "" && string(body[:n]) != tc.wantBody) {
				t.Fatalf("got %d %q", resp.StatusCode, body[:n])
			}
			if time.Since(start) < tc.fault.Delay {
				t.Fatalf("answered before the %v delay", tc.fault.Delay)
			}
			p.SetFault(tc.endpoint, devidp.Fault{})
			resp, err = http.Get(p.Issuer() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == tc.wantStatus && tc.wantStatus != 200 {
				t.Fatalf("fault not cleared: %d", resp.StatusCode)
			}
		})
	}
	if n := p.JWKSCalls(); n != 5 {
		t.Fatalf("JWKSCalls = %d, want 5", n)
	}
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// MustAuthorize runs the authorize endpoint and returns the redirect query.
func MustAuthorize(t *testing.T, p *devidp.Provider, q url.Values, wantStatus int) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(p.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != wantStatus {
		t.Fatalf("authorize: status %d, want %d", resp.StatusCode, wantStatus)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc.Query()
}

func authorizeQuery(challenge string) url.Values {
	return url.Values{
		"client_id": {"idgate-dev"}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"st8"}, "nonce": {"n0nce"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

func tokenReq(t *testing.T, p *devidp.Provider, form url.Values, basic bool) *http.Request {
	t.Helper()
	if !basic {
		form.Set("client_id", "idgate-dev")
		form.Set("client_secret", "dev-secret")
	}
	req, err := http.NewRequest(http.MethodPost, p.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth("idgate-dev", "dev-secret")
	}
	return req
}

func TestAuthorizeRefusals(t *testing.T) {
	p := MustStart(t, devidp.Options{RedirectURLs: []string{redirectURI}})
	_, challenge := pkce("a")
	tests := []struct {
		name       string
		set        map[string]string
		wantStatus int
		wantError  string
	}{
		{"unknown client", map[string]string{"client_id": "evil"}, 400, ""},
		{"unregistered redirect", map[string]string{"redirect_uri": "http://evil.example/cb"}, 400, ""},
		{"implicit flow", map[string]string{"response_type": "token"}, 302, "unsupported_response_type"},
		{"plain pkce", map[string]string{"code_challenge_method": "plain"}, 302, "invalid_request"},
		{"no pkce", map[string]string{"code_challenge": ""}, 302, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeQuery(challenge)
			for k, v := range tc.set {
				q.Set(k, v)
			}
			back := MustAuthorize(t, p, q, tc.wantStatus)
			if back.Get("error") != tc.wantError || back.Get("code") != "" {
				t.Fatalf("redirect query = %v", back)
			}
		})
	}
}

func TestCodeFlowAndRefresh(t *testing.T) {
	p := MustStart(t, devidp.Options{})
	verifier, challenge := pkce("v")
	back := MustAuthorize(t, p, authorizeQuery(challenge), http.StatusFound)
	if back.Get("state") != "st8" || back.Get("code") == "" {
		t.Fatalf("redirect query = %v", back)
	}
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {redirectURI}}
	t.Run("wrong verifier burns the code", func(t *testing.T) {
		bad := url.Values{"code_verifier": {strings.Repeat("x", 43)}}
		for k, v := range exchange {
			bad[k] = v
		}
		MustGetJSON(t, tokenReq(t, p, bad, true), http.StatusBadRequest)
	})
	back = MustAuthorize(t, p, authorizeQuery(challenge), http.StatusFound)
	exchange.Set("code", back.Get("code"))
	exchange.Set("code_verifier", verifier)
	wrongSecret := tokenReq(t, p, exchange, true)
	wrongSecret.SetBasicAuth("idgate-dev", "nope")
	MustGetJSON(t, wrongSecret, http.StatusUnauthorized)
	tok := MustGetJSON(t, tokenReq(t, p, exchange, true), http.StatusOK)
	MustGetJSON(t, tokenReq(t, p, exchange, true), http.StatusBadRequest) // code reuse
	idt := decodeSegment(t, tok["id_token"].(string), 1)
	if idt["nonce"] != "n0nce" || idt["aud"] != "idgate-dev" || idt["azp"] != "idgate-dev" || idt["sub"] != "dev-user" {
		t.Fatalf("id_token claims = %v", idt)
	}
	at := decodeSegment(t, tok["access_token"].(string), 1)
	if at["aud"] != "idgate-dev" || at["email"] != "dev@example.com" || tok["expires_in"] != float64(3600) {
		t.Fatalf("access token claims = %v, response %v", at, tok)
	}
	info := MustGetJSON(t, userinfoReq(t, p, tok["access_token"].(string)), http.StatusOK)
	if info["sub"] != "dev-user" {
		t.Fatalf("userinfo = %v", info)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	again := MustGetJSON(t, tokenReq(t, p, refresh, false), http.StatusOK)
	if again["access_token"] == "" || again["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh response = %v", again)
	}
	MustGetJSON(t, tokenReq(t, p, refresh, false), http.StatusBadRequest) // rotated away
	MustGetJSON(t, tokenReq(t, p, url.Values{"grant_type": {"password"}}, false), http.StatusBadRequest)
}

func TestLogout(t *testing.T) {
	p := MustStart(t, devidp.Options{})
	resp, err := noRedirect.Get(p.Issuer() + "/logout?post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/bye") + "&state=s1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:9/bye?state=s1" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = noRedirect.Get(p.Issuer() + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || p.Logouts() != 2 {
		t.Fatalf("logout without redirect: %d, logouts %d", resp.StatusCode, p.Logouts())
	}
}
