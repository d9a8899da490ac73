package userinfo

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the resolver's Prometheus collectors:
//
//	idgate_userinfo_requests_total{result="ok|timeout|error|status|malformed|too_large|unsupported|sub_mismatch"}
//	idgate_userinfo_negative_hits_total
//	idgate_userinfo_cache_invalid_total
//	idgate_userinfo_duration_seconds (histogram of HTTP lookups)
//	idgate_userinfo_dropped_values_total{field}
//	idgate_userinfo_lease_total{result="won|waited_hit|waited_timeout|error"}
//
// One metric per fact: cache hits, misses and Redis errors are counted by
// the cache itself (idgate_profilecache_gets_total, _sets_total), and sub
// mismatches by requests_total{result="sub_mismatch"}; this package counts
// only what the cache cannot see.
type metrics struct {
	requests     *prometheus.CounterVec
	negativeHits prometheus.Counter
	invalid      prometheus.Counter
	duration     prometheus.Histogram
	dropped      *prometheus.CounterVec
	lease        *prometheus.CounterVec
}

// droppedFields are the dropped_values_total{field} label values: the
// profile fields userinfo fills.
var droppedFields = []string{"email", "name", "given_name", "family_name", "preferred_username", "groups"}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "idgate", Subsystem: "userinfo", Name: name, Help: help}
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(opts("requests_total",
			"Userinfo HTTP lookups by result."), []string{"result"}),
		negativeHits: prometheus.NewCounter(opts("negative_hits_total",
			"Requests answered by a cached failed lookup (degraded without calling userinfo).")),
		invalid: prometheus.NewCounter(opts("cache_invalid_total",
			"Cached profiles that did not decode or named another subject; treated as a miss.")),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "idgate", Subsystem: "userinfo", Name: "duration_seconds",
			Help:    "Duration of userinfo HTTP lookups.",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .5, 1},
		}),
		dropped: prometheus.NewCounterVec(opts("dropped_values_total",
			"Userinfo values dropped because they contain CR, LF or NUL."), []string{"field"}),
		lease: prometheus.NewCounterVec(opts("lease_total",
			"Fleet leases on a subject's lookup (shared Redis only): won (this replica took it and asks userinfo), waited_hit (another replica's profile arrived in time, or just before the lease was free), waited_timeout (it did not; asked userinfo), error (Redis failed; asked userinfo alone)."), []string{"result"}),
	}
	for _, r := range []string{resultOK, resultTimeout, resultError, resultStatus, resultMalformed,
		resultTooLarge, resultUnsupported, resultSubMismatch} {
		m.requests.WithLabelValues(r)
	}
	for _, f := range droppedFields {
		m.dropped.WithLabelValues(f)
	}
	for _, r := range []string{leaseWon, leaseWaitedHit, leaseWaitedTimeout, leaseError} {
		m.lease.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.requests, m.negativeHits, m.invalid, m.duration, m.dropped, m.lease} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("userinfo: metrics: %w", err)
		}
	}
	return m, nil
}

// DegradedReasons are every degraded reason Enrich returns, for metrics to
// export at zero.
func DegradedReasons() []string {
	return []string{ReasonTimeout, ReasonError, ReasonStatus, ReasonMalformed, ReasonUnsupported,
		ReasonSubMismatch, ReasonCanceled, ReasonCacheError}
}
