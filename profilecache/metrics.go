package profilecache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric label values for idgate_profilecache_gets_total{result}.
const (
	resultHitLocal = "hit_local"
	resultHitRedis = "hit_redis"
	resultMiss     = "miss"
	resultInvalid  = "invalid"
	resultError    = "error"
	resultOK       = "ok"
)

// metrics are the cache's Prometheus collectors:
//
//	idgate_profilecache_gets_total{result="hit_local|hit_redis|miss|invalid|error"}
//	idgate_profilecache_sets_total{result="ok|error"}
//	idgate_profilecache_local_entries
type metrics struct {
	gets *prometheus.CounterVec
	sets *prometheus.CounterVec
	// get and set are gets' and sets' children by result, resolved once:
	// a Get on the hot path costs a map read, not a label hash under the
	// vector's lock. Read-only after newMetrics.
	get, set map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, entries func() float64) (*metrics, error) {
	m := &metrics{
		gets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "idgate", Subsystem: "profilecache", Name: "gets_total",
			Help: "Profile cache lookups by result: hit_local, hit_redis, miss, invalid (a Redis value that does not open with the cache keys: a miss) or error (Redis failed).",
		}, []string{"result"}),
		sets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "idgate", Subsystem: "profilecache", Name: "sets_total",
			Help: "Profile cache stores by result: ok or error (Redis failed; the in-process layer still has it).",
		}, []string{"result"}),
	}
	m.get, m.set = map[string]prometheus.Counter{}, map[string]prometheus.Counter{}
	for _, r := range []string{resultHitLocal, resultHitRedis, resultMiss, resultInvalid, resultError} {
		m.get[r] = m.gets.WithLabelValues(r)
	}
	for _, r := range []string{resultOK, resultError} {
		m.set[r] = m.sets.WithLabelValues(r)
	}
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "idgate", Subsystem: "profilecache", Name: "local_entries",
		Help: "Entries held by the in-process layer, expired ones not yet evicted included.",
	}, entries)
	for _, c := range []prometheus.Collector{m.gets, m.sets, size} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("profilecache: metrics: %w", err)
		}
	}
	return m, nil
}
