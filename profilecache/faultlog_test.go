package profilecache_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/testkit/redistest"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/internal/testkit/wait"
	"github.com/idgate/idgate/profilecache"
)

// TestRedisOutageLoggedOncePerChangeOfState stops a real Redis under a
// cache: ten failed calls are one warning naming the address and the error,
// and the first call after Redis is back logs the recovery.
func TestRedisOutageLoggedOncePerChangeOfState(t *testing.T) {
	rds := redistest.Start(t)
	var logs testlog.Buffer
	c := MustNew(t, profilecache.Config{
		Redis:  profilecache.RedisConfig{Addrs: []string{rds.Addr()}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	if err := c.Set(ctx, "a", []byte("v"), 60e9); err != nil {
		t.Fatal(err)
	}
	if logs.String() != "" {
		t.Fatalf("a healthy Redis logged:\n%s", logs.String())
	}
	rds.Stop()
	for i := range 10 {
		if _, _, err := c.Get(ctx, "missing"+string(rune('0'+i))); err == nil {
			t.Fatal("Get succeeded with Redis stopped")
		}
	}
	// A caller that gave up is not a Redis fault.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, _, _ = c.Get(gone, "missing")
	rds.Restart()
	// go-redis may fail a call or two on connections of the old process.
	wait.For(t, "a Get to succeed after the restart", func() bool {
		_, _, err := c.Get(ctx, "missing")
		return err == nil
	})
	t.Logf("log:\n%s", logs.String())
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines for one outage, want 2:\n%s", len(lines), logs.String())
	}
	for _, w := range []string{"level=WARN", `msg="profilecache: redis failing`, "redis_addrs=" + rds.Addr(), `error="profilecache: redis get: `} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("failure line lacks %s:\n%s", w, lines[0])
		}
	}
	for _, w := range []string{"level=INFO", `msg="profilecache: redis at ` + rds.Addr() + ` answering again after `, " failures over "} {
		if !strings.Contains(lines[1], w) {
			t.Errorf("recovery line lacks %s:\n%s", w, lines[1])
		}
	}
}
