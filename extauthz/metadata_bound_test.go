package extauthz

import (
	"fmt"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

// TestEncodedMetadataByteBound: allows for callers with very long subjects
// do not grow the encoded-metadata cache (it holds no subjects), and each
// response still carries its own metadata.
func TestEncodedMetadataByteBound(t *testing.T) {
	rc := newResponseCaches()
	long := strings.Repeat("s", 1<<20)
	for i := 0; i < 14; i++ {
		res := &decision.Result{Allowed: true, Reply: decision.Reply{Reason: "ok"}, Route: "default",
			Identity: &identity.Identity{Issuer: "https://idp", Subject: fmt.Sprint(i, long)}}
		if b := rc.metadata(nil, res); len(b) < 1<<20 {
			t.Fatalf("metadata of %d bytes", len(b))
		}
	}
	if n := rc.meta.c.Bytes(); n > 1<<20 {
		t.Fatalf("cache holds %d bytes after 14 subjects of 1 MiB", n)
	}
}

// TestEncodedMetadataMatchesStruct: the pre-encoded field with the subject
// appended decodes to exactly the Struct fillMetadata builds, for every
// shape of allow, and the cache holds one entry per shape, not per user.
func TestEncodedMetadataMatchesStruct(t *testing.T) {
	id := func(sub, degraded string) *identity.Identity {
		return &identity.Identity{Issuer: "https://idp", Subject: sub, Degraded: degraded}
	}
	rc := newResponseCaches()
	before := rc.meta.c.Len()
	for _, tc := range []struct {
		name string
		res  decision.Result
	}{
		{"public", decision.Result{Allowed: true, Reply: decision.Reply{Reason: "public"}, Route: "/public"}},
		{"user", decision.Result{Allowed: true, Reply: decision.Reply{Reason: "ok"}, Route: "/api", Identity: id("alice", "")}},
		{"other user", decision.Result{Allowed: true, Reply: decision.Reply{Reason: "ok"}, Route: "/api", Identity: id("bob", "")}},
		{"empty subject", decision.Result{Allowed: true, Reply: decision.Reply{Reason: "ok"}, Route: "/api", Identity: id("", "")}},
		{"long subject", decision.Result{Allowed: true, Reply: decision.Reply{Reason: "ok"}, Route: "/api", Identity: id(strings.Repeat("é", 300), "")}},
		{"degraded", decision.Result{Allowed: true, Reply: decision.Reply{Reason: "ok"}, Route: "/api", Identity: id("carol", "userinfo_timeout")}},
		{"shadow", decision.Result{Allowed: true, Shadow: true, WouldAllow: false, Reply: decision.Reply{Reason: "forbidden"}, Route: "/admin", Identity: id("dave", "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := allowed(rc, &tc.res)
			wire, err := proto.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			got := &authv3.CheckResponse{}
			if err := proto.Unmarshal(wire, got); err != nil {
				t.Fatal(err)
			}
			want := rc.fillMetadata(&structpb.Struct{}, &tc.res)
			if !proto.Equal(got.GetDynamicMetadata(), want) {
				t.Fatalf("metadata %v, want %v", got.GetDynamicMetadata(), want)
			}
		})
	}
	if n := rc.meta.c.Len() - before; n > 5 {
		t.Fatalf("%d cache entries for 5 shapes of allow", n)
	}
}
