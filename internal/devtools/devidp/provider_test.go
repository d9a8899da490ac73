package devidp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// MustStart starts a provider that is closed when the test ends.
func MustStart(tb testing.TB, opts devidp.Options) *devidp.Provider {
	tb.Helper()
	p, err := devidp.Start(opts)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// MustMint mints a token or fails the test.
func MustMint(tb testing.TB, p *devidp.Provider, claims map[string]any, opt devidp.MintOptions) string {
	tb.Helper()
	tok, err := p.Mint(claims, opt)
	if err != nil {
		tb.Fatalf("Mint: %v", err)
	}
	return tok
}

var noRedirect = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// MustGetJSON fetches url and decodes its JSON body into a map.
func MustGetJSON(tb testing.TB, req *http.Request, wantStatus int) map[string]any {
	tb.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		tb.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.URL, resp.StatusCode, wantStatus, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatalf("%s %s: decode %q: %v", req.Method, req.URL, body, err)
	}
	return m
}

func get(tb testing.TB, u string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func decodeSegment(tb testing.TB, tok string, i int) map[string]any {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		tb.Fatalf("segment %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("segment %d: %v", i, err)
	}
	return m
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			if p, err := devidp.Start(devidp.Options{Addr: addr}); err == nil {
				_ = p.Close()
				t.Fatalf("Start(%q) succeeded", addr)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	p := MustStart(t, devidp.Options{})
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
		t.Fatalf("Issuer() = %q", p.Issuer())
	}
	doc := MustGetJSON(t, get(t, p.Issuer()+"/.well-known/openid-configuration"), 200)
	want := map[string]string{
		"issuer":                 p.Issuer(),
		"authorization_endpoint": p.Issuer() + "/authorize",
		"token_endpoint":         p.Issuer() + "/token",
		"userinfo_endpoint":      p.Issuer() + "/userinfo",
		"jwks_uri":               p.Issuer() + "/jwks",
		"end_session_endpoint":   p.Issuer() + "/logout",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %q", k, doc[k], v)
		}
	}
	if got := doc["code_challenge_methods_supported"]; len(got.([]any)) != 1 {
		t.Errorf("code_challenge_methods_supported = %v", got)
	}
	if got := doc["id_token_signing_alg_values_supported"].([]any); len(got) != len(devidp.Algs) {
		t.Errorf("id_token_signing_alg_values_supported = %v", got)
	}
}

// fetchSet returns the provider's JWKS parsed by jwx, an independent parser.
func fetchSet(t *testing.T, p *devidp.Provider) jwk.Set {
	t.Helper()
	set, err := jwk.Fetch(context.Background(), p.Issuer()+"/jwks")
	if err != nil {
		t.Fatalf("jwk.Fetch: %v", err)
	}
	return set
}

func TestMintEveryAlgVerifiesAgainstJWKS(t *testing.T) {
	p := MustStart(t, devidp.Options{})
	set := fetchSet(t, p)
	if set.Len() != len(devidp.Algs) {
		t.Fatalf("JWKS has %d keys, want %d", set.Len(), len(devidp.Algs))
	}
	for _, alg := range devidp.Algs {
		t.Run(alg, func(t *testing.T) {
			tok := MustMint(t, p, map[string]any{"sub": "alice"}, devidp.MintOptions{Alg: alg})
			if _, err := jws.Verify([]byte(tok), jws.WithKeySet(set)); err != nil {
				t.Fatalf("jws.Verify: %v", err)
			}
			h := decodeSegment(t, tok, 0)
			if h["alg"] != alg || h["kid"] != p.CurrentKeyID(alg) {
				t.Fatalf("header = %v", h)
			}
			k, ok := set.LookupKeyID(p.CurrentKeyID(alg))
			if !ok || k.Algorithm().String() != alg || k.KeyUsage() != "sig" {
				t.Fatalf("JWK for %s: %v %v", alg, ok, k)
			}
		})
	}
}

func TestMintDefaultsAndOptions(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := MustStart(t, devidp.Options{Now: func() time.Time { return now }})
	if _, err := p.Mint(map[string]any{"email": "x"}, devidp.MintOptions{}); err == nil {
		t.Fatal("Mint without sub succeeded")
	}
	if _, err := p.Mint(map[string]any{"sub": "a"}, devidp.MintOptions{Alg: "HS256"}); err == nil {
		t.Fatal("Mint HS256 succeeded")
	}
	tok := MustMint(t, p, map[string]any{"sub": "a"}, devidp.MintOptions{
		KeyID: "nope", ExtraHeader: map[string]any{"jku": "https://evil.example/jwks"},
	})
	c := decodeSegment(t, tok, 1)
	if c["iss"] != p.Issuer() || c["aud"] != "idgate-dev" || c["iat"] != float64(now.Unix()) || c["exp"] != float64(now.Unix()+3600) {
		t.Fatalf("claims = %v", c)
	}
	if h := decodeSegment(t, tok, 0); h["kid"] != "nope" || h["jku"] != "https://evil.example/jwks" {
		t.Fatalf("header = %v", h)
	}
	tok = MustMint(t, p, map[string]any{"sub": "a", "aud": "other"}, devidp.MintOptions{NoKeyID: true})
	if h := decodeSegment(t, tok, 0); h["kid"] != nil {
		t.Fatalf("NoKeyID header = %v", h)
	}
	if c := decodeSegment(t, tok, 1); c["aud"] != "other" {
		t.Fatalf("aud = %v", c["aud"])
	}
	none := p.MintNone(map[string]any{"sub": "a"})
	if !strings.HasSuffix(none, ".") || decodeSegment(t, none, 0)["alg"] != "none" {
		t.Fatalf("MintNone = %q", none)
	}
	hs, err := p.MintHS256WithPublicKey(map[string]any{"sub": "a"})
	if err != nil || decodeSegment(t, hs, 0)["alg"] != "HS256" {
		t.Fatalf("MintHS256WithPublicKey = %q, %v", hs, err)
	}
}

func TestRotateKeys(t *testing.T) {
	p := MustStart(t, devidp.Options{})
	old := p.CurrentKeyID("ES256")
	oldTok := MustMint(t, p, map[string]any{"sub": "a"}, devidp.MintOptions{Alg: "ES256"})
	tests := []struct {
		name     string
		keepOld  bool
		wantKeys int
	}{
		{"keep old", true, 2 * len(devidp.Algs)},
		{"drop old", false, len(devidp.Algs)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.RotateKeys(tc.keepOld)
			if p.CurrentKeyID("ES256") == old {
				t.Fatal("kid unchanged after rotation")
			}
			old = p.CurrentKeyID("ES256")
			if n := fetchSet(t, p).Len(); n != tc.wantKeys {
				t.Fatalf("JWKS has %d keys, want %d", n, tc.wantKeys)
			}
		})
	}
	if _, err := jws.Verify([]byte(oldTok), jws.WithKeySet(fetchSet(t, p))); err == nil {
		t.Fatal("token of a dropped key still verifies")
	}
}
