package profilecache_test

import (
	"context"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/profilecache"
)

var benchValue = []byte(`{"sub":"248289761001","email":"jane@example.com","name":"Jane Doe","groups":["ml-platform","flyte-admins"]}`)

func BenchmarkGetLocalHit(b *testing.B) {
	c := MustNew(b, profilecache.Config{})
	MustSet(b, c, "k", string(benchValue), time.Hour)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := c.Get(ctx, "k"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkGetRedisHit disables the in-process layer so every Get is a Redis
// round trip over loopback.
func BenchmarkGetRedisHit(b *testing.B) {
	srv := redistest.Start(b)
	c := MustNew(b, profilecache.Config{LocalSize: -1, Redis: profilecache.RedisConfig{Addrs: []string{srv.Addr()}}})
	MustSet(b, c, "k", string(benchValue), time.Hour)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := c.Get(ctx, "k"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
