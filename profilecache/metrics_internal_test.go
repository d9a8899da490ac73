package profilecache

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/internal/testkit/promtest"
)

// TestResolvedCountersCountTheirResult: each counter resolved once per
// result counts under that result's label and no other.
func TestResolvedCountersCountTheirResult(t *testing.T) {
	tests := []struct {
		metric  string
		results []string
		pick    func(m *metrics, r string) prometheus.Counter
	}{
		{"idgate_profilecache_gets_total", []string{resultHitLocal, resultHitRedis, resultMiss, resultInvalid, resultError},
			func(m *metrics, r string) prometheus.Counter { return m.get[r] }},
		{"idgate_profilecache_sets_total", []string{resultOK, resultError},
			func(m *metrics, r string) prometheus.Counter { return m.set[r] }},
	}
	for _, tc := range tests {
		for i, r := range tc.results {
			t.Run(tc.metric+"/"+r, func(t *testing.T) {
				reg := prometheus.NewRegistry()
				m, err := newMetrics(reg, func() float64 { return 0 })
				if err != nil {
					t.Fatal(err)
				}
				for range i + 1 {
					tc.pick(m, r).Inc()
				}
				for _, other := range tc.results {
					want := 0.0
					if other == r {
						want = float64(i + 1)
					}
					if got := promtest.Value(t, reg, tc.metric, "result", other); got != want {
						t.Fatalf("%s{result=%q} = %v, want %v", tc.metric, other, got, want)
					}
				}
			})
		}
	}
}
