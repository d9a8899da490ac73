package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// SentinelMasterName is the name under which the Sentinel monitors its master.
const SentinelMasterName = "idgate-test"

// Sentinel is one redis-server master monitored by one Sentinel process.
type Sentinel struct {
	// Master is the monitored data node.
	Master *Server
	// Sentinel is the redis-server running in sentinel mode.
	Sentinel *Server
	// MasterName is the name clients ask the Sentinel about.
	MasterName string
}

// StartSentinel starts a master and a Sentinel monitoring it under
// SentinelMasterName, and waits until the Sentinel reports the master's
// address. Both are killed when the test ends.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	master := Start(tb)
	dir := tb.TempDir()
	sentinel := startWith(tb, dir, func(port int) ([]string, error) {
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 1\n"+
			"sentinel down-after-milliseconds %s 5000\n",
			port, dir, SentinelMasterName, master.Port(), SentinelMasterName)
		path := filepath.Join(dir, "sentinel-"+strconv.Itoa(port)+".conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		return []string{path, "--sentinel"}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	want := []string{"127.0.0.1", strconv.Itoa(master.Port())}
	if err := waitFor(ctx, func() bool {
		got, err := Do(sentinel.Addr(), "SENTINEL", "get-master-addr-by-name", SentinelMasterName)
		return err == nil && len(got) == 2 && got[0] == want[0] && got[1] == want[1]
	}); err != nil {
		tb.Fatalf("redistest: sentinel %s does not report master: %v", sentinel.Addr(), err)
	}
	return &Sentinel{Master: master, Sentinel: sentinel, MasterName: SentinelMasterName}
}

// Addrs are the Sentinels' host:port addresses.
func (s *Sentinel) Addrs() []string { return []string{s.Sentinel.Addr()} }

// waitFor polls cond every 20ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// execOutput runs a command and returns its combined output.
func execOutput(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}
