package decision

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
)

// countRenderer renders n headers, appended to dst as outputs does.
type countRenderer int

func (n countRenderer) Render(dst []identity.Header, id *identity.Identity, _ string) ([]identity.Header, error) {
	for i := range int(n) {
		dst = append(dst, identity.Header{Name: fmt.Sprintf("x-out-%d", i), Value: id.Subject})
	}
	return dst, nil
}

func (n countRenderer) Names() []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("x-out-%d", i)
	}
	return names
}

// degradeEnricher marks every identity degraded.
type degradeEnricher struct{}

func (degradeEnricher) Enrich(context.Context, *identity.Identity, string) string {
	return "userinfo_timeout"
}

// TestCallerBlock: the identity and its headers share one allocation; a
// Renderer writing more headers than it holds, the cookie rewrite and the
// enricher's changes all still land in the Result, and two Results never
// share their headers.
func TestCallerBlock(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for _, n := range []int{0, 1, 5, 6, 7, 12} {
		t.Run(fmt.Sprintf("%d headers", n), func(t *testing.T) {
			e, err := New(Config{Renderer: countRenderer(n), Enricher: degradeEnricher{}, Browser: fakeBrowser{},
				Verifier: tableVerifier{"alice": {Issuer: "https://idp", Subject: "a", Email: "a@example.com", ExpiresAt: exp}}})
			if err != nil {
				t.Fatal(err)
			}
			req := &Request{Method: "GET", Host: "h", Path: "/p", Headers: map[string]string{"authorization": "Bearer alice", "cookie": "theme=dark; idgate_session=x"}}
			a, err := e.Decide(context.Background(), req)
			if err != nil || !a.Allowed {
				t.Fatal(err, a.Reason)
			}
			b, _ := e.Decide(context.Background(), req)
			if len(a.Set) != n+1 || a.Set[n] != (identity.Header{Name: "cookie", Value: "theme=dark"}) {
				t.Fatalf("Set = %v, want %d headers and the cookie rewrite", a.Set, n)
			}
			for i := range n {
				if a.Set[i].Name != fmt.Sprintf("x-out-%d", i) || a.Set[i].Value != "a" {
					t.Fatalf("Set[%d] = %v", i, a.Set[i])
				}
			}
			if a.Identity.Degraded != "userinfo_timeout" || a.Identity.Subject != "a" {
				t.Fatalf("Identity = %+v", a.Identity)
			}
			a.Set[0].Value, a.Identity.Subject = "changed", "changed"
			if b.Set[0].Value != "a" && n > 0 || b.Identity.Subject != "a" {
				t.Fatal("two Results share their headers or identity")
			}
		})
	}
}

// TestDecideWarmAllocs: a warm allow allocates once in the engine (the
// caller block: identity and headers), not once for each.
func TestDecideWarmAllocs(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	e, err := New(Config{Renderer: countRenderer(0), Verifier: tableVerifier{"alice": {Issuer: "https://idp", Subject: "a", Email: "a@example.com", ExpiresAt: exp}}})
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Method: "GET", Host: "h", Path: "/p", Headers: map[string]string{"authorization": "Bearer alice", "accept": "*/*"}}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if res, err := e.Decide(ctx, req); err != nil || !res.Allowed {
			t.Fatal(err, res.Reason)
		}
	})
	if allocs > 1 {
		t.Fatalf("a warm allow allocates %v times, want 1", allocs)
	}
}
