package extauthz

import (
	"fmt"
	"strings"
	"testing"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
)

// TestEncodedMetadataByteBound: allows for callers with very long subjects
// cannot grow the encoded-metadata cache past its byte bound, and each
// response still carries its own metadata.
func TestEncodedMetadataByteBound(t *testing.T) {
	long := strings.Repeat("s", 1<<20)
	for i := 0; i < 14; i++ {
		res := &decision.Result{Allowed: true, Reason: "ok", Route: "default",
			Identity: &identity.Identity{Issuer: "https://idp", Subject: fmt.Sprint(i, long)}}
		if b := allowMetadata.get(res); len(b) < 1<<20 {
			t.Fatalf("metadata of %d bytes", len(b))
		}
	}
	if n := allowMetadata.c.Bytes(); n > maxEncodedMetadata*metadataBytesPerEntry {
		t.Fatalf("cache holds %d bytes, bound %d", n, maxEncodedMetadata*metadataBytesPerEntry)
	}
}
