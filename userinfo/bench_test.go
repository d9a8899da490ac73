package userinfo_test

import (
	"context"
	"testing"
	"time"

	"github.com/idgate/idgate/profilecache"
	"github.com/idgate/idgate/userinfo"
)

// BenchmarkEnrichCacheHit is the hot path: a token with only sub whose
// profile is in the in-process layer of profilecache.
func BenchmarkEnrichCacheHit(b *testing.B) {
	p := newIDP(b, jsonProfile(janeProfile))
	c, err := profilecache.New(profilecache.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	res, _ := MustNew(b, userinfo.Config{}, p, c)
	ctx := context.Background()
	if got := res.Enrich(ctx, tokenIdentity(time.Time{}), testToken); got != "" {
		b.Fatal(got)
	}
	b.ReportAllocs()
	for b.Loop() {
		id := tokenIdentity(time.Time{})
		if got := res.Enrich(ctx, id, testToken); got != "" || id.Email == "" {
			b.Fatal(got)
		}
	}
	if p.calls.Load() != 1 {
		b.Fatalf("userinfo calls = %d", p.calls.Load())
	}
}
