package main

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/testkit/envoysim"
)

func albConfig(issuer string, padding bool) string {
	return fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: %s
    audiences: [flyte]
outputs:
  alb: {enabled: true, padding: %v, client: idgate-web}
routes:
  - {path_prefix: /no-token, alb_access_token: false}
`, issuer, padding)
}

// verifyALB checks x-amzn-oidc-data the way AWS documents for ALB
// consumers, independently of idgate's code: split on ".", read kid from
// the header, fetch the PEM public key by kid, verify ES256 over the first
// two segments as sent.
func verifyALB(t *testing.T, keyURL, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("x-amzn-oidc-data has %d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.URLEncoding.DecodeString(s) // padded, as ALB sends
		if err != nil {
			if b, err = base64.RawURLEncoding.DecodeString(s); err != nil {
				t.Fatalf("segment %q: %v", s, err)
			}
		}
		return b
	}
	if err := json.Unmarshal(dec(parts[0]), &header); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dec(parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(get(t, keyURL+header["kid"].(string))))
	if block == nil {
		t.Fatal("no PEM at the key endpoint")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig := dec(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("x-amzn-oidc-data signature does not verify with the published PEM")
	}
	return header, claims
}

func TestALBHeaders(t *testing.T) {
	for _, padding := range []bool{false, true} {
		t.Run(fmt.Sprintf("padding=%v", padding), func(t *testing.T) {
			idp := mustIdP(t)
			idp.SetUserinfo("alb-user", map[string]any{"email": "alb@example.com", "name": "Al B"})
			in := mustStart(t, albConfig(idp.Issuer(), padding))
			in.waitReady(t)
			tok := mustMint(t, idp, map[string]any{"sub": "alb-user", "aud": "flyte"}, "RS256")
			req := []envoysim.Header{{Name: "authorization", Value: "Bearer " + tok}, {Name: "X-Amzn-Oidc-Identity", Value: "forged"}, {Name: "x-amzn-oidc-data", Value: "forged"}}
			resp := check(t, in, checkRequest("/api", envoysim.CheckHeaders(req)))
			up := envoysim.Apply(req, resp.GetOkResponse(), envoysim.SetThenRemove)
			if got := envoysim.Values(up, "x-amzn-oidc-identity"); !slices.Equal(got, []string{"alb-user"}) {
				t.Fatalf("x-amzn-oidc-identity = %q", got)
			}
			if got := envoysim.Values(up, "x-amzn-oidc-accesstoken"); !slices.Equal(got, []string{tok}) {
				t.Fatal("x-amzn-oidc-accesstoken is not the caller's token")
			}
			data := envoysim.Values(up, "x-amzn-oidc-data")
			if len(data) != 1 {
				t.Fatalf("x-amzn-oidc-data = %q", data)
			}
			if strings.Contains(data[0], "=") != padding {
				t.Fatalf("padding=%v but token %q", padding, data[0])
			}
			header, claims := verifyALB(t, "http://"+in.httpAddr+"/alb-public-keys/", data[0])
			for k, want := range map[string]any{"alg": "ES256", "iss": idp.Issuer(), "client": "idgate-web", "signer": "idgate"} {
				if header[k] != want {
					t.Errorf("header %s = %v, want %v", k, header[k], want)
				}
			}
			if header["exp"] == nil {
				t.Error("header lacks exp")
			}
			if claims["sub"] != "alb-user" || claims["email"] != "alb@example.com" || claims["name"] != "Al B" || claims["iss"] != idp.Issuer() {
				t.Errorf("claims = %v", claims)
			}
			// A route that opts out never gets the access token.
			resp = check(t, in, checkRequest("/no-token", envoysim.CheckHeaders(req)))
			up = envoysim.Apply(req, resp.GetOkResponse(), envoysim.SetThenRemove)
			if got := envoysim.Values(up, "x-amzn-oidc-accesstoken"); len(got) != 0 {
				t.Fatalf("opted-out route got the access token")
			}
			if strings.Contains(get(t, "http://"+in.httpAddr+"/alb-public-keys/not-our-kid"), "PUBLIC KEY") {
				t.Fatal("unknown kid served a key")
			}
		})
	}
}

func TestShadowModeBesideALB(t *testing.T) {
	idp := mustIdP(t)
	in := mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 2s}
mode: shadow
issuers:
  - issuer: %s
    audiences: [flyte]
    userinfo: false
`, idp.Issuer()))
	in.waitReady(t)
	tok := mustMint(t, idp, map[string]any{"sub": "u1", "aud": "flyte", "email": "u1@example.com"}, "RS256")
	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		// "_" spellings are no proxy's: a WSGI upstream would read them as
		// kubeflow-userid and x-flyte-identity, so shadow mode removes them.
		{"agrees", map[string]string{"authorization": "Bearer " + tok, "x-amzn-oidc-identity": "u1", "kubeflow_userid": "root"}},
		{"differs", map[string]string{"authorization": "Bearer " + tok, "x-amzn-oidc-identity": "someone-else"}},
		{"would deny", map[string]string{"x-amzn-oidc-identity": "u1", "x_flyte_identity": "forged"}},
	} {
		resp := check(t, in, checkRequest("/api", tc.headers))
		ok := resp.GetOkResponse()
		if resp.GetStatus().GetCode() != 0 || len(ok.GetHeaders()) != 0 {
			t.Fatalf("%s: shadow mode set headers or denied the request: %v", tc.name, resp)
		}
		mustShadowStrip(t, tc.name, ok.GetHeadersToRemove(), "x-amzn-oidc-identity", "x-amzn-oidc-data", "kubeflow-userid", "authorization")
		for n := range tc.headers {
			if strings.Contains(n, "_") && !slices.Contains(ok.GetHeadersToRemove(), n) {
				t.Errorf("%s: shadow mode lets a client's %s through: %v", tc.name, n, ok.GetHeadersToRemove())
			}
		}
	}
	m := get(t, "http://"+in.httpAddr+"/metrics")
	for _, want := range []string{
		`idgate_shadow_mismatches_total{header="x-amzn-oidc-identity"} 1`,
		`idgate_shadow_mismatches_total{header="decision"} 1`,
		`idgate_decisions_total{reason="missing_token",result="shadow_deny"} 1`,
		`idgate_decisions_total{reason="ok",result="shadow_allow"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// mustShadowStrip: shadow mode leaves what the proxy being replaced writes
// (kept) and still removes what Flyte or a WSGI app would take from a
// client (x-flyte-identity, x-forwarded-user).
func mustShadowStrip(t *testing.T, name string, removed []string, kept ...string) {
	t.Helper()
	for _, n := range kept {
		if slices.Contains(removed, n) {
			t.Errorf("%s: shadow mode removes %s, which the proxy being replaced writes: %v", name, n, removed)
		}
	}
	for _, n := range []string{"x-flyte-identity", "x-forwarded-user"} {
		if !slices.Contains(removed, n) {
			t.Errorf("%s: shadow mode lets a client's %s through: %v", name, n, removed)
		}
	}
}
