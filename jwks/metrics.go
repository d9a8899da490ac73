package jwks

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics, all under idgate_jwks_:
//
//	fetches_total{issuer,result}        key refreshes by result: ok, error (transport or status),
//	                                    invalid (undecodable), empty (no usable key), refused (policy)
//	keys{issuer}                        usable keys held now (0 when none or too stale)
//	last_success_timestamp_seconds{issuer}  when keys were last fetched successfully
//	key_age_seconds{issuer}             age of the key set in use, at scrape time (keyage.go)
//	token_cache_hits_total, token_cache_misses_total  verified-token cache lookups
type metrics struct {
	fetches     *prometheus.CounterVec
	keys        *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	cacheHits   prometheus.Counter
	cacheMisses prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "idgate", Subsystem: "jwks", Name: name, Help: help}
	}
	m := &metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts(opts("fetches_total",
			"Key refreshes per issuer by result (ok, error, invalid, empty, refused).")), []string{"issuer", "result"}),
		keys: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("keys",
			"Usable signing keys held per issuer.")), []string{"issuer"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("last_success_timestamp_seconds",
			"Unix time of the last successful key fetch per issuer.")), []string{"issuer"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts(opts("token_cache_hits_total",
			"Verifications answered from the verified-token cache."))),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts(opts("token_cache_misses_total",
			"Verifications not found in the verified-token cache."))),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.fetches, m.keys, m.lastSuccess, m.cacheHits, m.cacheMisses} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("jwks: register metrics: %w", err)
		}
	}
	return m, nil
}

// fetchResults are the fetches_total{result} label values (fetchResult).
var fetchResults = []string{"ok", "error", "invalid", "empty", "refused"}

// presetIssuer exports issuer's fetch counters at zero, so rate() and
// alerts see a series before the first failure.
func (m *metrics) presetIssuer(issuer string) {
	for _, r := range fetchResults {
		m.fetches.WithLabelValues(issuer, r)
	}
}
