package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/wait"
)

// TestHostileInput sends what an attacker or a broken IdP would to one
// idgate process and checks each is answered (never a crash or a gRPC
// error), never grants a wrong identity, and never puts CR, LF or NUL in a
// header. Then it proves the spoof audit: one count and one log line per
// spoofed decision, the header's name only.
func TestHostileInput(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	attacker := mustIdP(t, devidp.Options{})
	p := mustRun(t, baseConfig(idp, "", "userinfo: {timeout: 1s}\ncache: {negative_ttl: 1s}"))
	p.mustReady(10 * time.Second)
	before := p.usage()
	tok := func(sub string, extra map[string]any, opt devidp.MintOptions) string {
		c := map[string]any{"sub": sub, "email": sub + "@example.com"}
		for k, v := range extra {
			c[k] = v
		}
		return mustMint(t, idp, c, opt)
	}
	bearer := func(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }
	ok := func(sub string) shot {
		return shot{kind: sub, allow: true, user: sub + "@example.com"}
	}
	deny := func(kind string) shot { return shot{kind: kind} }

	var attackerJWK map[string]any
	var set struct{ Keys []map[string]any }
	_ = json.Unmarshal([]byte(mustGet(t, attacker.Issuer()+"/jwks")), &set)
	attackerJWK = set.Keys[0]
	attackerCalls := attacker.JWKSCalls() // the one above
	forged := func(header map[string]any, kid string) string {
		tok, err := attacker.Mint(map[string]any{"sub": "mallory", "email": "admin@example.com", "iss": idp.Issuer(), "aud": "kubeflow"},
			devidp.MintOptions{Alg: "RS256", KeyID: kid, ExtraHeader: header})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	many := map[string]string{}
	for i := range 10000 {
		many[fmt.Sprintf("x-junk-%d", i)] = "v"
	}
	many["authorization"] = "Bearer " + tok("many", nil, devidp.MintOptions{})
	nested := strings.Repeat("[", 3000) + strings.Repeat("]", 3000)
	var nestedClaim any
	_ = json.Unmarshal([]byte(strings.Repeat("[", 1000)+strings.Repeat("]", 1000)), &nestedClaim)

	cases := []struct {
		name    string
		headers map[string]string
		want    shot
		fault   *devidp.Fault // userinfo misbehaving for this case
	}{
		{name: "100 KB token", headers: bearer(strings.Repeat("a", 100<<10)), want: deny("too_large")},
		{name: "100 KB header value", headers: map[string]string{"authorization": "Bearer " + tok("big", nil, devidp.MintOptions{}), "x-big": strings.Repeat("b", 100<<10)}, want: ok("big")},
		{name: "10000 headers", headers: many, want: ok("many")},
		{name: "control characters in header names and values", headers: map[string]string{
			"authorization": "Bearer " + tok("ctl", nil, devidp.MintOptions{}), "kubeflow-userid": "x\r\nkubeflow-userid: root",
			"x-evil\x00": "a\x00b", "x-crlf": "a\r\nb", "kubeflow-groups\r\n": "admins"}, want: ok("ctl")},
		{name: "CR LF in the user claim", headers: bearer(tok("crlf", map[string]any{"email": "a@example.com\r\nkubeflow-userid: root"}, devidp.MintOptions{})), want: deny("unsafe_identity")},
		{name: "deeply nested claim", headers: bearer(tok("nest", map[string]any{"deep": nestedClaim}, devidp.MintOptions{})), want: ok("nest")},
		{name: "deeply nested groups claim", headers: bearer(tok("nestg", map[string]any{"groups": nestedClaim}, devidp.MintOptions{})), want: ok("nestg")},
		{name: "deeply nested userinfo", headers: bearer(tok("nestui", nil, devidp.MintOptions{})), want: ok("nestui"), fault: &devidp.Fault{Body: nested}},
		{name: "8 MB userinfo", headers: bearer(tok("bigui", nil, devidp.MintOptions{})), want: ok("bigui"),
			fault: &devidp.Fault{Body: `{"sub":"bigui","pad":"` + strings.Repeat("x", 8<<20) + `"}`}},
		{name: "alg none", headers: bearer(idp.MintNone(map[string]any{"sub": "n", "aud": "kubeflow"})), want: deny("algorithm")},
		{name: "HS256 keyed with the public key", headers: bearer(func() string {
			s, _ := idp.MintHS256WithPublicKey(map[string]any{"sub": "h", "aud": "kubeflow"})
			return s
		}()), want: deny("algorithm")},
		{name: "alg header swapped to RS512", headers: bearer(tok("swap", nil, devidp.MintOptions{ExtraHeader: map[string]any{"alg": "RS512"}})), want: deny("algorithm")},
		{name: "embedded jwk, jku, x5u with the attacker's kid", headers: bearer(forged(map[string]any{
			"jwk": attackerJWK, "jku": attacker.Issuer() + "/jwks", "x5u": attacker.Issuer() + "/cert.pem"}, attacker.CurrentKeyID("RS256"))), want: deny("unknown_key")},
		{name: "embedded jwk with the issuer's kid", headers: bearer(forged(map[string]any{"jwk": attackerJWK}, idp.CurrentKeyID("RS256"))), want: deny("signature")},
	}
	tl := newTally()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				idp.SetFault("userinfo", *tc.fault)
				defer idp.SetFault("userinfo", devidp.Fault{})
			}
			req := checkReq("/api/v1/runs", tc.headers)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := p.client.Check(ctx, req)
			tl.sent.Add(1)
			tl.record(tc.want, resp, err)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := codes.Code(resp.GetStatus().GetCode()) == codes.OK; got != tc.want.allow {
				t.Fatalf("allowed = %v, want %v (%v)", got, tc.want.allow, resp.GetDeniedResponse().GetBody())
			}
			if tc.want.allow {
				return
			}
			if _, found := p.waitLog(2*time.Second, 0, `"reason":"`+tc.want.kind+`"`); !found {
				t.Errorf("no decision logged with reason %q: %s", tc.want.kind, headerValue(resp.GetDeniedResponse().GetHeaders(), "www-authenticate"))
			}
		})
	}
	tl.mustBeClean(t, 0)
	if n := attacker.JWKSCalls() - attackerCalls; n != 0 {
		t.Errorf("idgate fetched keys named in a token header %d times", n)
	}
	if d := p.metric("idgate_enrichment_degraded_total"); d < 2 {
		t.Errorf("idgate_enrichment_degraded_total = %v after hostile userinfo answers, want ≥ 2", d)
	}
	spoofAudit(t, p, idp)
	after := p.mustNotGrow(before, 96)
	t.Logf("figures: hostile: %d cases, %v; goroutines %.0f→%.0f rss %.1f→%.1f MiB", len(cases), tl,
		before.goroutines, after.goroutines, before.rssMiB, after.rssMiB)
}

// spoofAudit sends n Checks carrying a forged kubeflow-userid and expects
// the counter to grow by n and n decision lines naming the header, none
// holding the forged value.
func spoofAudit(t *testing.T, p *proc, idp *devidp.Provider) {
	t.Helper()
	const n = 50
	m := newMix(t, idp, 4)
	counted := p.metric("idgate_spoof_attempts_total", "header", "kubeflow-userid")
	mark := len(p.logs.String())
	tl := newTally()
	load(context.Background(), p.client, 500, time.Second, func(i int) shot {
		if i < n {
			return m.spoofed[i%len(m.spoofed)]
		}
		return m.valid[i%len(m.valid)]
	}, tl)
	tl.mustBeClean(t, 0)
	if got := p.metric("idgate_spoof_attempts_total", "header", "kubeflow-userid") - counted; got != n {
		t.Errorf("idgate_spoof_attempts_total{header=kubeflow-userid} grew by %v, want %d", got, n)
	}
	// The decision log is buffered (flushed every 100ms): wait for it.
	lines := 0
	var logs string
	wait.Poll(3*time.Second, func() bool {
		logs, lines = p.logs.String(), 0
		for _, l := range strings.Split(logs[mark:], "\n") {
			if strings.Contains(l, `"msg":"decision"`) && strings.Contains(l, `"spoofed_headers":["kubeflow-userid"`) {
				lines++
			}
		}
		return lines >= n
	})
	if lines != n {
		t.Errorf("%d decision lines name the spoofed header, want %d", lines, n)
	}
	if strings.Contains(logs, spoofValue) {
		t.Error("the log holds a spoofed header's value")
	}
}
