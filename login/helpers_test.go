package login

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/jwks"
	"github.com/idgate/idgate/session"
)

const appHost = "app.example"

// The cookie names with MustEnv's Secure cookie and no domain.
const (
	sessionName = "__Host-idgate_session"
	statePrefix = "__Host-idgate_session_state_"
)

// clock is a settable test clock shared by the IdP, verifier, store and flow.
type clock = testclock.Clock

// env is a running login: a devidp, the real jwks verifier and a Flow.
type env struct {
	t       testing.TB
	clk     *clock
	idp     *devidp.Provider
	store   *session.Store
	flow    *Flow
	redis   *redistest.Server
	eps     Endpoints
	epsKnow bool
	// lastNonce is the nonce of the last MustLogin.
	lastNonce string
}

type envOptions struct {
	idp     devidp.Options // Now is the env's clock
	redis   bool
	session session.Config
	edit    func(*Config)
}

// MustEnv starts devidp and builds a Flow against it.
func MustEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{t: t, clk: testclock.New(time.Now().Truncate(time.Second))}
	io := o.idp
	io.Now = e.clk.Now
	idp, err := devidp.Start(io)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	e.idp = idp
	jc := jwks.DefaultConfig()
	jc.Issuers = []jwks.IssuerConfig{{Issuer: idp.Issuer(), Audiences: []string{idp.ClientID()}}}
	jc.Now = e.clk.Now
	v, err := jwks.New(jc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	e.eps, e.epsKnow = MustDiscover(t, idp.Issuer()), true

	sc := session.DefaultConfig() // with the settings o.session names
	if o.session.TTL != 0 {
		sc.TTL = o.session.TTL
	}
	sc.IdleTTL = o.session.IdleTTL
	if o.session.MaxLocal != 0 {
		sc.MaxLocal = o.session.MaxLocal
	}
	sc.Now = e.clk.Now
	sc.Keys = [][]byte{[]byte(strings.Repeat("k", 32))}
	if o.redis {
		e.redis = redistest.Start(t)
		rc := redis.NewClient(&redis.Options{Addr: e.redis.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { _ = rc.Close() })
		sc.Redis = rc
	}
	if e.store, err = session.New(sc); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ClientID = idp.ClientID()
	cfg.ClientSecret = idp.ClientSecret()
	cfg.PostLogoutRedirectURL = "https://" + appHost + "/bye"
	cfg.Cookie.Secure = true
	cfg.Endpoints = func() (Endpoints, bool) { return e.eps, e.epsKnow }
	cfg.IDTokens = v
	cfg.Sessions = e.store
	cfg.Now = e.clk.Now
	cfg.Timeout = 2 * time.Second
	if o.edit != nil {
		o.edit(&cfg)
	}
	if e.flow, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// MustDiscover reads the IdP's discovery document over HTTP.
func MustDiscover(tb testing.TB, issuer string) Endpoints {
	tb.Helper()
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		EndSession    string `json:"end_session_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		tb.Fatal(err)
	}
	return Endpoints{Authorization: d.Authorization, Token: d.Token, EndSession: d.EndSession}
}

// browser is a cookie jar for one host, fed from Set-Cookie headers.
type browser struct {
	cookies map[string]string
	order   []string
	// lastState is the last state cookie value set, even once cleared.
	lastState string
}

func newBrowser() *browser { return &browser{cookies: map[string]string{}} }

func (b *browser) apply(tb testing.TB, hs []identity.Header) {
	tb.Helper()
	for _, h := range hs {
		if h.Name != "set-cookie" {
			continue
		}
		c, err := http.ParseSetCookie(h.Value)
		if err != nil {
			tb.Fatalf("Set-Cookie %q: %v", h.Value, err)
		}
		if strings.HasPrefix(c.Name, statePrefix) && c.Value != "" {
			b.lastState = c.Value
		}
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
			continue
		}
		if _, ok := b.cookies[c.Name]; !ok {
			b.order = append(b.order, c.Name)
		}
		b.cookies[c.Name] = c.Value
	}
}

func (b *browser) header() string {
	var parts []string
	for _, n := range b.order {
		if v, ok := b.cookies[n]; ok {
			parts = append(parts, n+"="+v)
		}
	}
	return strings.Join(parts, "; ")
}

// get is a browser navigation to path on the app host.
func (b *browser) get(path string) *decision.Request {
	h := map[string]string{"accept": "text/html,application/xhtml+xml"}
	if c := b.header(); c != "" {
		h["cookie"] = c
	}
	return &decision.Request{Method: "GET", Scheme: "https", Host: appHost, Path: path, Headers: h}
}

func header(r *decision.Reply, name string) string {
	for _, h := range r.ResponseHeaders {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func setCookies(r *decision.Reply) []string {
	var out []string
	for _, h := range r.ResponseHeaders {
		if h.Name == "set-cookie" {
			out = append(out, h.Value)
		}
	}
	return out
}

var noRedirects = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// MustAuthorize follows Start's redirect to the IdP and returns the
// callback path (path and query) the IdP redirects back to.
func MustAuthorize(tb testing.TB, start *decision.Reply) string {
	tb.Helper()
	if start.Status != http.StatusFound {
		tb.Fatalf("Start = %d %s, want 302", start.Status, start.Reason)
	}
	resp, err := noRedirects.Get(header(start, "location"))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		tb.Fatalf("authorize = %d", resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || u.Host != appHost {
		tb.Fatalf("authorize redirected to %q", resp.Header.Get("Location"))
	}
	return u.RequestURI()
}

// MustLogin runs Start, the IdP and the callback, leaving the session
// cookie in b, and returns the callback's response.
func (e *env) MustLogin(b *browser, path string) *decision.Reply {
	e.t.Helper()
	start := e.flow.Start(e.t.Context(), b.get(path))
	b.apply(e.t, start.ResponseHeaders)
	if u, err := url.Parse(header(start, "location")); err == nil {
		e.lastNonce = u.Query().Get("nonce")
	}
	cb := MustAuthorize(e.t, start)
	resp, ok := e.flow.Endpoint(e.t.Context(), b.get(cb))
	if !ok {
		e.t.Fatal("callback not handled")
	}
	b.apply(e.t, resp.ResponseHeaders)
	return resp
}

// assertClean fails when a response body carries a secret.
func assertClean(tb testing.TB, r *decision.Reply, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(r.Message, s) {
			tb.Fatalf("body of %s response contains a secret %.8q...", r.Reason, s)
		}
	}
}
