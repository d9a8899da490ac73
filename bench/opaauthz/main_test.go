package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const (
	testIssuer   = "http://issuer.test"
	testAudience = "idgate-load"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mustKey is a fresh RSA key.
func mustKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// jwksOf is the JSON key set publishing pub under kid.
func jwksOf(pub *rsa.PublicKey, kid string) string {
	return `{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"` + kid + `","n":"` + b64(pub.N.Bytes()) +
		`","e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `"}]}`
}

// mustJWT signs claims under header: RS256 with key, HS256 with secret,
// or no signature for alg none.
func mustJWT(tb testing.TB, header, claims map[string]any, key *rsa.PrivateKey, secret []byte) string {
	tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	input := b64(h) + "." + b64(c)
	var sig []byte
	switch header["alg"] {
	case "RS256":
		d := sha256.Sum256([]byte(input))
		if sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:]); err != nil {
			tb.Fatal(err)
		}
	case "HS256":
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	}
	return input + "." + b64(sig)
}

// instance is opaauthz run for real on loopback ports.
type instance struct {
	client  authv3.AuthorizationClient
	metrics string
	lines   chan string // opaauthz's log lines after the first
	done    chan error
}

// startOpaauthz runs opaauthz against the key set at jwksURL and returns
// once it listens (not necessarily with its policy loaded).
func startOpaauthz(t *testing.T, jwksURL string, extra ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	in := &instance{lines: make(chan string, 16), done: make(chan error, 1)}
	args := append([]string{"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--jwks-url", jwksURL,
		"--issuer", testIssuer, "--audience", testAudience}, extra...)
	go func() { in.done <- run(ctx, args, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		cancel()
		t.Fatalf("opaauthz ended before listening: %v", <-in.done)
	}
	var grpcAddr string
	if _, err := fmt.Sscanf(sc.Text(), "opaauthz: grpc %s metrics %s pid", &grpcAddr, &in.metrics); err != nil {
		t.Fatalf("first line %q: %v", sc.Text(), err)
	}
	go func() {
		for sc.Scan() {
			in.lines <- sc.Text()
		}
		close(in.lines)
	}()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-in.done; err != nil {
			t.Errorf("opaauthz: %v", err)
		}
	})
	in.client = authv3.NewAuthorizationClient(conn)
	return in
}

// waitLoaded waits for opaauthz to say its policy is loaded.
func (in *instance) waitLoaded(t *testing.T) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-in.lines:
			if !ok {
				t.Fatalf("opaauthz ended: %v", <-in.done)
			}
			if strings.Contains(l, "policy loaded") {
				return
			}
		case <-timeout:
			t.Fatal("policy not loaded within 30s")
		}
	}
}

// check sends one Check with the given Authorization header ("" for none).
func (in *instance) check(t *testing.T, authz, path string) (*authv3.CheckResponse, error) {
	t.Helper()
	h := map[string]string{":authority": "localhost", ":method": "GET", ":path": path}
	if authz != "" {
		h["authorization"] = authz
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return in.client.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Path: path, Host: "localhost", Headers: h}}}})
}

func serveJWKS(t *testing.T, jwks string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, jwks)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCheckVerifiesTokens: a token of the IdP's key with the right iss
// and aud is allowed; every other token, and none, is denied.
func TestCheckVerifiesTokens(t *testing.T) {
	key, other := mustKey(t), mustKey(t)
	jwks := jwksOf(&key.PublicKey, "k1")
	in := startOpaauthz(t, serveJWKS(t, jwks).URL)
	in.waitLoaded(t)

	now := time.Now().Unix()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "u1", "iat": now, "exp": now + 3600}
		if edit != nil {
			edit(c)
		}
		return c
	}
	rs := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"}
	cases := []struct {
		name  string
		authz string
		want  codes.Code
	}{
		{"valid", "Bearer " + mustJWT(t, rs, claims(nil), key, nil), codes.OK},
		{"valid, audience in a list", "Bearer " + mustJWT(t, rs, claims(func(c map[string]any) {
			c["aud"] = []string{"other", testAudience}
		}), key, nil), codes.OK},
		{"signed by another key", "Bearer " + mustJWT(t, rs, claims(nil), other, nil), codes.PermissionDenied},
		{"signed by another key, no kid", "Bearer " + mustJWT(t, map[string]any{"alg": "RS256"}, claims(nil), other, nil), codes.PermissionDenied},
		{"alg none", "Bearer " + mustJWT(t, map[string]any{"alg": "none", "kid": "k1"}, claims(nil), nil, nil), codes.PermissionDenied},
		{"HS256 keyed with the JWKS", "Bearer " + mustJWT(t, map[string]any{"alg": "HS256", "kid": "k1"}, claims(nil), nil, []byte(jwks)), codes.PermissionDenied},
		{"wrong audience", "Bearer " + mustJWT(t, rs, claims(func(c map[string]any) { c["aud"] = "someone-else" }), key, nil), codes.PermissionDenied},
		{"no audience", "Bearer " + mustJWT(t, rs, claims(func(c map[string]any) { delete(c, "aud") }), key, nil), codes.PermissionDenied},
		{"wrong issuer", "Bearer " + mustJWT(t, rs, claims(func(c map[string]any) { c["iss"] = "http://evil.test" }), key, nil), codes.PermissionDenied},
		{"expired", "Bearer " + mustJWT(t, rs, claims(func(c map[string]any) { c["exp"] = now - 60 }), key, nil), codes.PermissionDenied},
		{"not yet valid", "Bearer " + mustJWT(t, rs, claims(func(c map[string]any) { c["nbf"] = now + 600 }), key, nil), codes.PermissionDenied},
		{"signature cut off", "Bearer " + strings.TrimRight(mustJWT(t, rs, claims(nil), key, nil), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), codes.PermissionDenied},
		{"not a JWT", "Bearer not-a-jwt", codes.PermissionDenied},
		{"no scheme", mustJWT(t, rs, claims(nil), key, nil), codes.PermissionDenied},
		{"no header", "", codes.PermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := in.check(t, tc.authz, "/api/v1/runs")
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := codes.Code(resp.GetStatus().GetCode()); got != tc.want {
				t.Fatalf("status %s, want %s", got, tc.want)
			}
			if resp.GetDynamicMetadata().GetFields()["decision_id"].GetStringValue() == "" {
				t.Fatal("no decision_id in the dynamic metadata")
			}
		})
	}
}

// TestCheckWaitsForKeySet: until the JWKS answers, Checks fail with
// Unavailable (the load's probe retries); once it answers, the policy
// loads without a restart. With --key-cache the decision is the same.
func TestCheckWaitsForKeySet(t *testing.T) {
	key := mustKey(t)
	jwks := jwksOf(&key.PublicKey, "k1")
	open := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-open:
			_, _ = io.WriteString(w, jwks)
		default:
			http.Error(w, "not yet", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	in := startOpaauthz(t, srv.URL, "--key-cache")
	now := time.Now().Unix()
	tok := "Bearer " + mustJWT(t, map[string]any{"alg": "RS256", "kid": "k1"},
		map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "u1", "exp": now + 3600}, key, nil)
	if _, err := in.check(t, tok, "/"); status.Code(err) != codes.Unavailable {
		t.Fatalf("before the key set: %v, want Unavailable", err)
	}
	close(open)
	in.waitLoaded(t)
	for i := range 2 { // the second evaluation uses the cached keys
		resp, err := in.check(t, tok, "/")
		if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
			t.Fatalf("Check %d after the key set: %v %v", i, resp.GetStatus(), err)
		}
	}
}

// TestUnreadableRequestIsDenied: a path that does not unescape is a 400
// deny, as the plugin answers, not a gRPC error.
func TestUnreadableRequestIsDenied(t *testing.T) {
	key := mustKey(t)
	in := startOpaauthz(t, serveJWKS(t, jwksOf(&key.PublicKey, "k1")).URL)
	in.waitLoaded(t)
	resp, err := in.check(t, "", "/a%zz")
	if err != nil {
		t.Fatal(err)
	}
	if codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied || resp.GetDeniedResponse().GetStatus().GetCode() != 400 {
		t.Fatalf("got %v", resp)
	}
}

// TestMetricsServeCPU: /metrics has the process CPU `idgate load
// --metrics-url` reads.
func TestMetricsServeCPU(t *testing.T) {
	key := mustKey(t)
	in := startOpaauthz(t, serveJWKS(t, jwksOf(&key.PublicKey, "k1")).URL)
	resp, err := http.Get("http://" + in.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "\nprocess_cpu_seconds_total ") {
		t.Fatalf("no process_cpu_seconds_total in:\n%s", body)
	}
}

// TestRunRefusesMissingFlags: no key set, issuer or audience is a start-up error.
func TestRunRefusesMissingFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--jwks-url", "http://x", "--issuer", "i"},
		{"--jwks-url", "http://x", "--audience", "a"},
		{"--issuer", "i", "--audience", "a"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := run(context.Background(), args, io.Discard); err == nil || !strings.Contains(err.Error(), "required") {
				t.Fatalf("run %v: %v", args, err)
			}
		})
	}
}

// TestFetchJWKSKeepsAlg: --jwks-alg keeps the keys of that alg only; none
// left, an error status or a set without keys is an error.
func TestFetchJWKSKeepsAlg(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	two := strings.Replace(jwksOf(&k1.PublicKey, "k1"), `]}`, ","+strings.TrimSuffix(strings.TrimPrefix(
		strings.Replace(jwksOf(&k2.PublicKey, "k2"), "RS256", "PS256", 1), `{"keys":[`), `]}`)+`]}`, 1)
	srv := serveJWKS(t, two)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	t.Cleanup(fail.Close)
	empty := serveJWKS(t, `{"keys":[]}`)
	cases := []struct {
		name, url, alg string
		kids           []string // nil: an error
	}{
		{"all", srv.URL, "", []string{"k1", "k2"}},
		{"RS256", srv.URL, "RS256", []string{"k1"}},
		{"PS256", srv.URL, "PS256", []string{"k2"}},
		{"none of ES256", srv.URL, "ES256", nil},
		{"status 502", fail.URL, "", nil},
		{"no keys", empty.URL, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fetchJWKS(context.Background(), http.DefaultClient, tc.url, tc.alg, 5*time.Second)
			if tc.kids == nil {
				if err == nil {
					t.Fatalf("no error; got %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var set struct{ Keys []struct{ Kid string } }
			if err := json.Unmarshal([]byte(got), &set); err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range set.Keys {
				kids = append(kids, k.Kid)
			}
			if strings.Join(kids, ",") != strings.Join(tc.kids, ",") {
				t.Fatalf("kids %v, want %v", kids, tc.kids)
			}
		})
	}
}
