package profilecache_test

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idgate/idgate/profilecache"
)

// TestMain silences go-redis's global logger, which reports every failed
// dial of the outage tests on stderr.
func TestMain(m *testing.M) {
	redis.SetLogger(discardLogger{})
	os.Exit(m.Run())
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// TestRedisUnresponsive points the cache at a socket that accepts
// connections and never answers, as a hung Redis would: every operation must
// give up within its configured timeouts.
func TestRedisUnresponsive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	c := MustNew(t, profilecache.Config{Redis: profilecache.RedisConfig{
		Addrs: []string{l.Addr().String()}, DialTimeout: 20 * time.Millisecond,
		ReadTimeout: 30 * time.Millisecond, WriteTimeout: 30 * time.Millisecond,
	}})
	ctx := context.Background()
	cases := []struct {
		name  string
		limit time.Duration
		do    func() error
	}{
		{"get", 150 * time.Millisecond, func() error { _, _, err := c.Get(ctx, "k"); return err }},
		{"set", 200 * time.Millisecond, func() error { return c.Set(ctx, "k", []byte("v"), time.Minute) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			if err := tc.do(); err == nil {
				t.Fatal("succeeded against a hung Redis")
			}
			if d := time.Since(start); d > tc.limit {
				t.Fatalf("took %v, want under %v", d, tc.limit)
			}
		})
	}
	MustGet(t, c, "k", true) // the failed Set is still held in-process
}
