package userinfo

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Cache outcomes: the cache_total{result} label values.
const (
	cacheHit      = "hit"
	cacheNegative = "negative"
	cacheMiss     = "miss"
	cacheInvalid  = "invalid"
	cacheError    = "error"
	cacheSetError = "set_error"
)

// metrics are the resolver's Prometheus collectors:
//
//	idgate_userinfo_requests_total{result="ok|timeout|error|status|malformed|too_large|unsupported|sub_mismatch"}
//	idgate_userinfo_cache_total{result="hit|negative|miss|invalid|error|set_error"}
//	idgate_userinfo_duration_seconds (histogram of HTTP lookups)
//	idgate_userinfo_sub_mismatch_total
//	idgate_userinfo_dropped_values_total{field}
//
// Whether a hit came from the in-process or the Redis layer is counted by
// the cache itself (idgate_profilecache_gets_total).
type metrics struct {
	requests    *prometheus.CounterVec
	cache       *prometheus.CounterVec
	duration    prometheus.Histogram
	subMismatch prometheus.Counter
	dropped     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "idgate", Subsystem: "userinfo", Name: name, Help: help}
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(opts("requests_total",
			"Userinfo HTTP lookups by result."), []string{"result"}),
		cache: prometheus.NewCounterVec(opts("cache_total",
			"Profile cache lookups and stores by result."), []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "idgate", Subsystem: "userinfo", Name: "duration_seconds",
			Help:    "Duration of userinfo HTTP lookups.",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .5, 1},
		}),
		subMismatch: prometheus.NewCounter(opts("sub_mismatch_total",
			"Userinfo responses discarded because their sub differs from the token's.")),
		dropped: prometheus.NewCounterVec(opts("dropped_values_total",
			"Userinfo values dropped because they contain CR, LF or NUL."), []string{"field"}),
	}
	for _, r := range []string{resultOK, resultTimeout, resultError, resultStatus, resultMalformed,
		resultTooLarge, resultUnsupported, resultSubMismatch} {
		m.requests.WithLabelValues(r)
	}
	for _, r := range []string{cacheHit, cacheNegative, cacheMiss, cacheInvalid, cacheError, cacheSetError} {
		m.cache.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.requests, m.cache, m.duration, m.subMismatch, m.dropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("userinfo: metrics: %w", err)
		}
	}
	return m, nil
}
