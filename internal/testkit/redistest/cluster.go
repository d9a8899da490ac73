package redistest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clusterTimeout bounds creating a cluster and waiting for it to be healthy.
const clusterTimeout = 20 * time.Second

// Cluster is a Redis Cluster of three masters without replicas, every node on
// a loopback port.
type Cluster struct {
	// Nodes are the masters, in the order their slots were assigned.
	Nodes []*Server
}

// StartCluster starts three cluster-enabled redis-servers, joins them with
// `redis-cli --cluster create` and waits until every node reports
// cluster_state:ok. It fails the test when redis-server or redis-cli is
// missing or the cluster does not form in time.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	cli := mustLookPath(tb, "redis-cli")
	c := &Cluster{}
	for range 3 {
		c.Nodes = append(c.Nodes, startServer(tb, func(dir string, port int) []string {
			// The bus port defaults to port+10000, which may not exist for
			// a high ephemeral port, so pick one explicitly.
			bus, err := FreePort()
			if err != nil {
				bus = 0
			}
			return []string{
				"--cluster-enabled", "yes",
				"--cluster-port", strconv.Itoa(bus),
				"--cluster-config-file", "nodes-" + strconv.Itoa(port) + ".conf",
				"--cluster-node-timeout", "2000",
			}
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := execOutput(ctx, cli, args...); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		if err := waitFor(ctx, func() bool {
			info, err := Do(n.Addr(), "CLUSTER", "INFO")
			return err == nil && len(info) == 1 &&
				strings.Contains(info[0], "cluster_state:ok") &&
				strings.Contains(info[0], "cluster_known_nodes:3")
		}); err != nil {
			tb.Fatalf("redistest: cluster node %s not ok: %v", n.Addr(), err)
		}
	}
	return c
}

// Addrs are the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}
