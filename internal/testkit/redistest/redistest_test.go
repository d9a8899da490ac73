package redistest_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/redistest"
)

func mustDo(tb testing.TB, addr string, args ...string) []string {
	tb.Helper()
	out, err := redistest.Do(addr, args...)
	if err != nil {
		tb.Fatalf("%s %v: %v", addr, args, err)
	}
	return out
}

func TestServerLifecycle(t *testing.T) {
	s := redistest.Start(t)
	mustDo(t, s.Addr(), "SET", "k", "v")
	if got := mustDo(t, s.Addr(), "GET", "k"); len(got) != 1 || got[0] != "v" {
		t.Fatalf("GET k = %q", got)
	}

	t.Run("kill refuses connections", func(t *testing.T) {
		s.Kill()
		if _, err := redistest.Do(s.Addr(), "PING"); err == nil {
			t.Fatal("PING after Kill succeeded")
		}
	})
	t.Run("restart on same port without data", func(t *testing.T) {
		addr := s.Addr()
		s.Restart()
		if s.Addr() != addr {
			t.Fatalf("Addr after Restart = %s, want %s", s.Addr(), addr)
		}
		if got := mustDo(t, s.Addr(), "EXISTS", "k"); got[0] != "0" {
			t.Fatalf("EXISTS k after restart = %q, want 0", got)
		}
	})
	t.Run("stop then restart", func(t *testing.T) {
		s.Stop()
		if _, err := redistest.Do(s.Addr(), "PING"); err == nil {
			t.Fatal("PING after Stop succeeded")
		}
		s.Restart()
		mustDo(t, s.Addr(), "PING")
	})
}

func TestStartCluster(t *testing.T) {
	start := time.Now()
	c := redistest.StartCluster(t)
	t.Logf("cluster of %d up in %v", len(c.Nodes), time.Since(start))
	info := mustDo(t, c.Addrs()[0], "CLUSTER", "INFO")
	if !strings.Contains(info[0], "cluster_slots_assigned:16384") {
		t.Fatalf("CLUSTER INFO: %s", info[0])
	}
}

func TestStartSentinel(t *testing.T) {
	start := time.Now()
	s := redistest.StartSentinel(t)
	t.Logf("sentinel up in %v", time.Since(start))
	got := mustDo(t, s.Addrs()[0], "SENTINEL", "get-master-addr-by-name", s.MasterName)
	if len(got) != 2 || got[1] != strconv.Itoa(s.Master.Port()) {
		t.Fatalf("master addr = %v, want %s", got, s.Master.Addr())
	}
}
