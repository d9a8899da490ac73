package extauthz

import (
	"context"
	"testing"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/decidertest"
)

// cached counts what c holds: shared metadata values and encoded metadata.
func cached(c *responseCaches) (values, encoded int) {
	return c.values.c.Len(), c.meta.c.Len()
}

// TestResponseCachesOwnedByServer: what responses share (keyed by route,
// issuer and subject) belongs to one Server, is not seen by another, and
// Reset (called by the app on reload) drops it.
func TestResponseCachesOwnedByServer(t *testing.T) {
	allow := decision.Result{Allowed: true, Reply: decision.Reply{Status: 200, Reason: "ok"}, Route: "/pipeline",
		Identity: &identity.Identity{Issuer: "https://idp", Subject: "alice"},
		Set:      []identity.Header{{Name: "kubeflow-userid", Value: "alice"}}}
	deny := decision.Result{Reply: decision.Reply{Status: 403, Reason: "forbidden"}, Route: "/admin"}
	tests := []struct {
		name        string
		res         decision.Result
		wantEncoded int
	}{
		{"allow", allow, 1},
		{"deny", deny, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s1, _ := newServer(t, decidertest.Fixed{Result: tc.res}, decisionlog.Config{})
			s2, _ := newServer(t, decidertest.Fixed{Result: tc.res}, decisionlog.Config{})
			if _, err := s1.Check(context.Background(), checkFor("/pipeline")); err != nil {
				t.Fatal(err)
			}
			if v, e := cached(s1.caches.Load()); v == 0 || e != tc.wantEncoded {
				t.Fatalf("s1 after a Check: %d values, %d encoded; want some, %d", v, e, tc.wantEncoded)
			}
			if v, e := cached(s2.caches.Load()); v != 0 || e != 0 {
				t.Fatalf("s2 sees s1's cache: %d values, %d encoded", v, e)
			}
			s1.Reset()
			if v, e := cached(s1.caches.Load()); v != 0 || e != 0 {
				t.Fatalf("after Reset: %d values, %d encoded", v, e)
			}
		})
	}
}
