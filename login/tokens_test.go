package login

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testlog"
)

// spiedRequest is one request the token endpoint received.
type spiedRequest struct {
	header http.Header
	form   url.Values
}

// tokenSpy stands in front of a token endpoint: it records each request,
// then answers with answer when set, else with what upstream answers.
type tokenSpy struct {
	t        *testing.T
	upstream string
	answer   func(w http.ResponseWriter)
	mu       sync.Mutex
	reqs     []spiedRequest
}

// spyOnToken puts a tokenSpy in front of e's token endpoint.
func spyOnToken(t *testing.T, e *env) *tokenSpy {
	s := &tokenSpy{t: t, upstream: e.eps.Token}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e.eps.Token = srv.URL + "/token"
	return s
}

func (s *tokenSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	s.reqs = append(s.reqs, spiedRequest{header: r.Header.Clone(), form: form})
	answer := s.answer
	s.mu.Unlock()
	if answer != nil {
		answer(w)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, s.upstream, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// take returns the requests received since the last take.
func (s *tokenSpy) take() []spiedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// assertOneRequest checks that exactly one request came, authenticated
// with client_secret_basic only, asking for JSON, with form want.
func assertOneRequest(t *testing.T, e *env, reqs []spiedRequest, want url.Values) {
	t.Helper()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(reqs))
	}
	r := reqs[0]
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(
		url.QueryEscape(e.idp.ClientID())+":"+url.QueryEscape(e.idp.ClientSecret())))
	if got := r.header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization = %q, want client_secret_basic", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := r.header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	if len(r.form) != len(want) {
		t.Errorf("form = %v, want exactly %v (no client_id or client_secret in the body)", r.form, want)
	}
	for k := range want {
		if r.form.Get(k) != want.Get(k) || len(r.form[k]) != 1 {
			t.Errorf("form %s = %q, want %q", k, r.form[k], want.Get(k))
		}
	}
}

// The code exchange and the refresh send what idgate always sent: one
// request each, client_secret_basic, the PKCE verifier of the challenge
// the authorization request carried, the refresh token; a refused refresh
// is not retried in another client authentication style.
func TestTokenRequests(t *testing.T) {
	e := MustEnv(t, envOptions{})
	spy := spyOnToken(t, e)
	ctx := t.Context()
	b := newBrowser()
	start := e.flow.Start(ctx, b.get("/a"))
	b.apply(t, start.ResponseHeaders)
	authz, _ := url.Parse(header(start, "location"))
	cb := MustAuthorize(t, start)
	code, _ := url.Parse(cb)
	r := callback(t, e, b.get(cb))
	if r.Status != http.StatusFound {
		t.Fatalf("callback = %d %s", r.Status, r.Reason)
	}
	b.apply(t, r.ResponseHeaders)
	reqs := spy.take()
	if len(reqs) == 1 {
		verifier := reqs[0].form.Get("code_verifier")
		sum := sha256.Sum256([]byte(verifier))
		if len(verifier) != 43 || base64.RawURLEncoding.EncodeToString(sum[:]) != authz.Query().Get("code_challenge") {
			t.Errorf("code_verifier %q does not match the S256 code_challenge %q", verifier, authz.Query().Get("code_challenge"))
		}
		assertOneRequest(t, e, reqs, url.Values{"grant_type": {"authorization_code"}, "code": {code.Query().Get("code")},
			"redirect_uri": {"https://" + appHost + "/oauth2/callback"}, "code_verifier": {verifier}})
	} else {
		t.Fatalf("%d token requests for the code, want 1", len(reqs))
	}

	res, _ := e.flow.Session(ctx, b.get("/"))
	sess, err := e.store.Get(ctx, b.cookies[sessionName])
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if again, ok := e.flow.Session(ctx, b.get("/")); !ok || again.AccessToken == res.AccessToken {
		t.Fatalf("refresh failed: ok=%v", ok)
	}
	assertOneRequest(t, e, spy.take(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {sess.RefreshToken}})

	e.clk.Advance(time.Hour)
	e.idp.SetFault("token", devidp.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_grant"}`})
	if _, ok := e.flow.Session(ctx, b.get("/")); ok {
		t.Fatal("a refused refresh kept the session")
	}
	if n := len(spy.take()); n != 1 {
		t.Fatalf("a refused refresh made %d token requests, want 1 (no retry with the secret in the body)", n)
	}
}

// The token endpoint's answers to a refresh: a token in JSON or (as RFC
// 6749 servers such as GitHub's answer without Accept) form-encoded,
// expiry on idgate's clock; refusals (status 400, or RFC 6749 5.2 error
// fields in a 200) end the session with refresh_refused naming the IdP's
// error and a clipped description, never the body; faults and answers that
// are no Bearer token end it without that line.
func TestTokenAnswers(t *testing.T) {
	const secret = "SECRET-in-the-body"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantOK      bool
		wantExpiry  time.Duration // of the new access token, when wantOK
		wantLog     []string      // in refresh_refused; nil: no such line
	}{
		{name: "json", status: 200, contentType: "application/json",
			body: `{"access_token":"at-2","token_type":"Bearer","expires_in":600}`, wantOK: true, wantExpiry: 600 * time.Second},
		{name: "json, expires_in a string", status: 200, contentType: "application/json;charset=UTF-8",
			body: `{"access_token":"at-2","token_type":"bearer","expires_in":"600"}`, wantOK: true, wantExpiry: 600 * time.Second},
		{name: "form-encoded", status: 200, contentType: "application/x-www-form-urlencoded",
			body: "access_token=at-2&token_type=bearer&expires_in=600&scope=openid", wantOK: true, wantExpiry: 600 * time.Second},
		{name: "refusal", status: 400, contentType: "application/json",
			body:    `{"error":"invalid_grant","error_description":"revoked\r\nforged: line","echo":"` + secret + `"}`,
			wantLog: []string{`"status":400`, `"error":"invalid_grant"`, `"error_description":"revoked??forged: line"`}},
		{name: "refusal in a 200", status: 200, contentType: "application/json",
			body:    `{"error":"invalid_grant","error_description":"revoked","access_token":"` + secret + `"}`,
			wantLog: []string{`"status":200`, `"error":"invalid_grant"`, `"error_description":"revoked"`}},
		{name: "refusal with an unprintable code", status: 400, contentType: "application/json",
			body: `{"error":"bad code\n"}`, wantLog: []string{`"status":400`, `"error":""`}},
		{name: "fault", status: 503, contentType: "text/html", body: "<h1>" + secret + "</h1>"},
		{name: "not a token", status: 200, contentType: "application/json", body: `{"token_type":"Bearer"}`},
		{name: "not json", status: 200, contentType: "application/json", body: secret},
		{name: "not Bearer", status: 200, contentType: "application/json",
			body: `{"access_token":"at-2","token_type":"MAC","expires_in":600}`},
		{name: "negative expires_in", status: 200, contentType: "application/json",
			body: `{"access_token":"at-2","token_type":"Bearer","expires_in":-1}`},
		{name: "endless expires_in", status: 200, contentType: "application/json",
			body: `{"access_token":"at-2","token_type":"Bearer","expires_in":9999999999}`},
		{name: "id_token not a string", status: 200, contentType: "application/json",
			body: `{"access_token":"at-2","token_type":"Bearer","expires_in":600,"id_token":{"sub":"mallory"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs testlog.Buffer
			e, b := loggedIn(t, envOptions{edit: func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) }})
			before, _ := e.flow.Session(t.Context(), b.get("/"))
			spy := spyOnToken(t, e)
			spy.answer = func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}
			e.clk.Advance(time.Hour)
			res, ok := e.flow.Session(t.Context(), b.get("/"))
			if ok != tc.wantOK {
				t.Fatalf("Session after the answer = %v, want %v", ok, tc.wantOK)
			}
			if ok && (res.AccessToken != "at-2" || !res.Identity.ExpiresAt.Equal(e.clk.Now().Add(tc.wantExpiry)) ||
				res.Identity.Subject != before.Identity.Subject) {
				t.Fatalf("refreshed: token %q, expires %v (want now+%v), subject %q",
					res.AccessToken, res.Identity.ExpiresAt.Sub(e.clk.Now()), tc.wantExpiry, res.Identity.Subject)
			}
			if !ok && (len(res.SetCookie) != 1 || !strings.Contains(res.SetCookie[0].Value, "Max-Age=0")) {
				t.Fatalf("ended session not cleared: %q", res.SetCookie)
			}
			line := logs.String()
			if got := strings.Contains(line, `"msg":"refresh_refused"`); got != (tc.wantLog != nil) {
				t.Fatalf("refresh_refused logged = %v, want %v:\n%s", got, tc.wantLog != nil, line)
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(line, want) {
					t.Errorf("log lacks %s:\n%s", want, line)
				}
			}
			for _, s := range []string{secret, before.AccessToken, e.idp.ClientSecret()} {
				if strings.Contains(line, s) {
					t.Errorf("the log carries %.12q...", s)
				}
			}
		})
	}
}

// login.token_timeout bounds each token call, whatever the caller's
// deadline.
func TestTokenTimeout(t *testing.T) {
	e := MustEnv(t, envOptions{edit: func(c *Config) { c.Timeout = 100 * time.Millisecond }})
	b, cb := startLogin(t, e, "/a")
	e.idp.SetFault("token", devidp.Fault{Delay: time.Minute})
	began := time.Now()
	r := callback(t, e, b.get(cb))
	if r.Status != http.StatusBadGateway || r.Reason != ReasonTokenExchange {
		t.Fatalf("callback with a stuck token endpoint = %d %s", r.Status, r.Reason)
	}
	if d := time.Since(began); d > 30*time.Second {
		t.Fatalf("the call took %v: Timeout did not bound it", d)
	}
}

// The authorization request's parameters replace those of the endpoint's
// own query, which otherwise stays; a path endpoint is on the request's
// host.
func TestAuthorizationParams(t *testing.T) {
	tests := []struct {
		name, endpoint, wantPrefix string
		wantKept                   map[string]string
	}{
		{"absolute", "https://idp.example/auth", "https://idp.example/auth?", nil},
		{"own query", "https://idp.example/auth?prompt=login&client_id=other&state=x",
			"https://idp.example/auth?", map[string]string{"prompt": "login"}},
		{"path on the request host", "/dex/auth?connector_id=ldap", "https://" + appHost + "/dex/auth?",
			map[string]string{"connector_id": "ldap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, envOptions{})
			e.eps.Authorization = tc.endpoint
			start := e.flow.Start(t.Context(), newBrowser().get("/a"))
			loc := header(start, "location")
			u, err := url.Parse(loc)
			if start.Status != http.StatusFound || err != nil || !strings.HasPrefix(loc, tc.wantPrefix) {
				t.Fatalf("Start = %d %q", start.Status, loc)
			}
			q := u.Query()
			for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
				"code_challenge", "code_challenge_method"} {
				if len(q[k]) != 1 {
					t.Errorf("%s = %q, want one value", k, q[k])
				}
			}
			if q.Get("client_id") != e.idp.ClientID() || q.Get("code_challenge_method") != "S256" ||
				q.Get("response_type") != "code" || len(q.Get("state")) != 43 {
				t.Errorf("query = %v", q)
			}
			for k, v := range tc.wantKept {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want the endpoint's %q", k, q.Get(k), v)
				}
			}
		})
	}
}
