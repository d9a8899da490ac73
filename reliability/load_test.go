package reliability

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idgate/idgate/internal/devtools/devidp"
)

// shot is one CheckRequest and what idgate must answer.
type shot struct {
	kind  string
	req   *authv3.CheckRequest
	allow bool   // must be allowed
	user  string // the kubeflow-userid it must carry when allowed
	spoof bool   // carries a client-supplied identity header
}

// tally counts what a load run got back.
type tally struct {
	sent, allowed, denied, refused atomic.Int64
	wrongIdentity, wronglyDenied   atomic.Int64
	wronglyAllowed, unsafeHeader   atomic.Int64
	spoofAnswered                  atomic.Int64

	mu     sync.Mutex
	errs   map[string]int // gRPC errors by code and a message prefix
	denies map[string]int // wrong denials by kind and status
}

func newTally() *tally { return &tally{errs: map[string]int{}, denies: map[string]int{}} }

func (tl *tally) errors() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	n := 0
	for _, v := range tl.errs {
		n += v
	}
	return n
}

func (tl *tally) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return fmt.Sprintf("sent=%d allowed=%d denied=%d refused_before_accept=%d errors=%v wrong_identity=%d wrongly_denied=%d%v wrongly_allowed=%d unsafe_header=%d",
		tl.sent.Load(), tl.allowed.Load(), tl.denied.Load(), tl.refused.Load(), sortedMap(tl.errs),
		tl.wrongIdentity.Load(), tl.wronglyDenied.Load(), sortedMap(tl.denies), tl.wronglyAllowed.Load(), tl.unsafeHeader.Load())
}

func sortedMap(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d", k, m[k])
	}
	b.WriteString("}")
	return b.String()
}

// mustBeClean fails the test unless nothing was wrong: no wrong identity,
// no unsafe header, nothing wrongly allowed, no error, and no wrong
// denial beyond allowedDenials.
func (tl *tally) mustBeClean(t *testing.T, allowedDenials int64) {
	t.Helper()
	if tl.wrongIdentity.Load() != 0 || tl.wronglyAllowed.Load() != 0 || tl.unsafeHeader.Load() != 0 ||
		tl.errors() != 0 || tl.wronglyDenied.Load() > allowedDenials {
		t.Errorf("load: %v", tl)
	}
}

// record checks one answer against the shot.
func (tl *tally) record(s shot, resp *authv3.CheckResponse, err error) {
	if err != nil {
		if status.Code(err) == codes.Unavailable && strings.Contains(err.Error(), "connection refused") {
			tl.refused.Add(1) // never reached idgate: the listener was closed
			return
		}
		msg := err.Error()
		if i := strings.Index(msg, "desc = "); i >= 0 {
			msg = msg[i+7:]
		}
		tl.mu.Lock()
		tl.errs[status.Code(err).String()+":"+msg[:min(len(msg), 40)]]++
		tl.mu.Unlock()
		return
	}
	if s.spoof {
		tl.spoofAnswered.Add(1)
	}
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		tl.denied.Add(1)
		if s.allow {
			tl.wronglyDenied.Add(1)
			tl.mu.Lock()
			tl.denies[fmt.Sprintf("%s/%d", s.kind, resp.GetDeniedResponse().GetStatus().GetCode())]++
			tl.mu.Unlock()
		}
		return
	}
	tl.allowed.Add(1)
	user := ""
	for _, h := range resp.GetOkResponse().GetHeaders() {
		k, v := h.GetHeader().GetKey(), h.GetHeader().GetValue()
		if strings.ContainsAny(k+v, "\r\n\x00") {
			tl.unsafeHeader.Add(1)
		}
		if k == "kubeflow-userid" {
			user = v
		}
	}
	switch {
	case !s.allow:
		tl.wronglyAllowed.Add(1)
	case user != s.user:
		tl.wrongIdentity.Add(1)
	}
}

// load sends Checks at a fixed rate for dur (or until ctx ends), each with
// a 2s deadline, at most 256 in flight, and waits for every answer.
func load(ctx context.Context, client authv3.AuthorizationClient, rate int, dur time.Duration, next func(i int) shot, tl *tally) {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
		s := next(i)
		sem <- struct{}{}
		wg.Add(1)
		tl.sent.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer ccancel()
			resp, err := client.Check(cctx, s.req)
			tl.record(s, resp, err)
		}()
	}
}

// mix is a fixed set of requests: valid tokens for several users, the same
// with spoofed identity headers, invalid tokens and anonymous spoofs.
type mix struct {
	valid, spoofed, invalid, anonymous []shot
}

const spoofValue = "root@evil.example"

func checkReq(path string, headers map[string]string) *authv3.CheckRequest {
	h := map[string]string{":method": "GET", ":path": path, ":authority": "runs", "accept": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Host: "runs", Path: path, Headers: h},
	}}}
}

func userEmail(i int) string { return fmt.Sprintf("user%d@example.com", i) }

// mustMint signs claims (sub required) for audience kubeflow.
func mustMint(t testing.TB, idp *devidp.Provider, claims map[string]any, opt devidp.MintOptions) string {
	t.Helper()
	if _, ok := claims["aud"]; !ok {
		claims["aud"] = "kubeflow"
	}
	tok, err := idp.Mint(claims, opt)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newMix(t testing.TB, idp *devidp.Provider, users int) *mix {
	t.Helper()
	m := &mix{}
	for i := range users {
		tok := mustMint(t, idp, map[string]any{"sub": fmt.Sprintf("u%d", i), "email": userEmail(i), "groups": []string{"ml"}},
			devidp.MintOptions{Alg: devidp.Algs[i%len(devidp.Algs)]})
		m.valid = append(m.valid, shot{kind: "valid", allow: true, user: userEmail(i),
			req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})})
		m.spoofed = append(m.spoofed, shot{kind: "spoofed", allow: true, user: userEmail(i), spoof: true,
			req: checkReq("/api/v1/runs", map[string]string{"flyte-authorization": "Bearer " + tok,
				"kubeflow-userid": spoofValue, "x-forwarded-user": spoofValue})})
	}
	expired := mustMint(t, idp, map[string]any{"sub": "late", "email": "late@example.com",
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()}, devidp.MintOptions{})
	good := mustMint(t, idp, map[string]any{"sub": "x", "email": "x@example.com"}, devidp.MintOptions{})
	tampered := good[:len(good)-4] + "AAAA"
	if tampered == good {
		tampered = good[:len(good)-4] + "BBBB"
	}
	hs, _ := idp.MintHS256WithPublicKey(map[string]any{"sub": "x", "email": "x@example.com", "aud": "kubeflow"})
	for _, tok := range []string{expired, tampered, "not.a.jwt", idp.MintNone(map[string]any{"sub": "x", "aud": "kubeflow"}), hs,
		mustMint(t, idp, map[string]any{"sub": "x", "iss": "https://other.example"}, devidp.MintOptions{})} {
		m.invalid = append(m.invalid, shot{kind: "invalid", req: checkReq("/api/v1/runs", map[string]string{"authorization": "Bearer " + tok})})
	}
	m.anonymous = append(m.anonymous, shot{kind: "anonymous", spoof: true,
		req: checkReq("/api/v1/runs", map[string]string{"kubeflow-userid": spoofValue})})
	return m
}

// next picks request i: 60% valid, 15% spoofed, 15% invalid, 10% anonymous.
func (m *mix) next(i int) shot {
	switch r := i % 20; {
	case r < 12:
		return m.valid[i%len(m.valid)]
	case r < 15:
		return m.spoofed[i%len(m.spoofed)]
	case r < 18:
		return m.invalid[i%len(m.invalid)]
	default:
		return m.anonymous[i%len(m.anonymous)]
	}
}

// baseConfig is idgate for issuer idp on loopback port 0, with extra YAML
// appended (top-level keys only).
func baseConfig(idp *devidp.Provider, issuerExtra, extra string) string {
	return fmt.Sprintf(`server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", shutdown_grace: 5s}
tokens: {refresh_min_interval: 200ms}
issuers:
  - issuer: %s
    audiences: [kubeflow]
%s
%s
`, idp.Issuer(), issuerExtra, extra)
}

func mustIdP(t testing.TB, opts devidp.Options) *devidp.Provider {
	t.Helper()
	p, err := devidp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
