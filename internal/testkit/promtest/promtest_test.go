package promtest_test

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idgate/idgate/internal/testkit/promtest"
)

// registry holds one of each kind a test reads.
func registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "c"}, []string{"result", "issuer"})
	c.WithLabelValues("ok", "a").Add(2)
	c.WithLabelValues("ok", "b").Add(3)
	c.WithLabelValues("error", "a").Add(0)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	g.Set(7)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_seconds", Help: "h"})
	h.Observe(0.1)
	h.Observe(0.2)
	reg.MustRegister(c, g, h)
	return reg
}

func TestValue(t *testing.T) {
	reg := registry()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	tests := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{name: "counter summed over series", metric: "c_total", want: 5},
		{name: "counter, one label", metric: "c_total", labels: []string{"result", "ok"}, want: 5},
		{name: "counter, two labels", metric: "c_total", labels: []string{"result", "ok", "issuer", "b"}, want: 3},
		{name: "zero series is zero", metric: "c_total", labels: []string{"result", "error"}, want: 0},
		{name: "missing series is -1", metric: "c_total", labels: []string{"result", "timeout"}, want: -1},
		{name: "missing family is -1", metric: "nope_total", want: -1},
		{name: "gauge", metric: "g", want: 7},
		{name: "histogram sample count", metric: "h_seconds", want: 2},
	}
	for _, src := range []struct {
		name string
		g    prometheus.Gatherer
	}{{"registry", reg}, {"scrape", promtest.Scrape(srv.URL)}} {
		for _, tc := range tests {
			t.Run(src.name+"/"+tc.name, func(t *testing.T) {
				if got := promtest.Value(t, src.g, tc.metric, tc.labels...); got != tc.want {
					t.Errorf("Value(%s, %q) = %v, want %v", tc.metric, tc.labels, got, tc.want)
				}
			})
		}
	}
}
