package jwks

import "github.com/prometheus/client_golang/prometheus"

// keyAge is idgate_jwks_key_age_seconds{issuer}: how long ago the keys in
// use were fetched, read at scrape time. It grows past the refresh interval
// only while refreshing fails; alert well before tokens.max_stale.
type keyAge struct {
	v    *Verifier
	desc *prometheus.Desc
}

func newKeyAge(v *Verifier) *keyAge {
	return &keyAge{v: v, desc: prometheus.NewDesc("idgate_jwks_key_age_seconds",
		"Seconds since the key set in use per issuer was fetched (absent before the first fetch).",
		[]string{"issuer"}, nil)}
}

func (k *keyAge) Describe(ch chan<- *prometheus.Desc) { ch <- k.desc }

func (k *keyAge) Collect(ch chan<- prometheus.Metric) {
	now := k.v.cfg.Now()
	for _, is := range k.v.list {
		if ks := is.keys.Load(); ks != nil {
			ch <- prometheus.MustNewConstMetric(k.desc, prometheus.GaugeValue, now.Sub(ks.fetched).Seconds(), is.cfg.Issuer)
		}
	}
}
