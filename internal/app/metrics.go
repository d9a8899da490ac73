package app

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
	"github.com/idgate/idgate/internal/buildinfo"
	"github.com/idgate/idgate/jwks"
	"github.com/idgate/idgate/userinfo"
)

// processMetrics live as long as the process (not the reloadable stack):
//
//	idgate_build_info{version,commit,goversion}                 1
//	idgate_config_last_reload_success                           1 if the last reload (or the start) applied, else 0
//	idgate_config_last_reload_success_timestamp_seconds         when the configuration was last applied
type processMetrics struct {
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

func newProcessMetrics(reg prometheus.Registerer, now time.Time) *processMetrics {
	m := &processMetrics{
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "idgate", Name: "config_last_reload_success",
			Help: "1 if the last configuration reload was applied (or none was tried since start), 0 if it was refused."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "idgate", Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time the configuration in use was applied (start or last successful reload)."}),
	}
	m.reloadOK.Set(1)
	m.reloadTime.Set(float64(now.Unix()))
	reg.MustRegister(buildinfo.Get().Collector(), m.reloadOK, m.reloadTime)
	return m
}

// RecordReload records a reload's outcome (err nil: applied) in
// idgate_config_last_reload_success and its timestamp. The caller that
// loads the file calls it, so a file that does not parse counts too.
func (a *App) RecordReload(err error) {
	if err != nil {
		a.pm.reloadOK.Set(0)
		return
	}
	a.pm.reloadOK.Set(1)
	a.pm.reloadTime.Set(float64(a.now().Unix()))
}

// presetLabels are the decision metrics' label values known for s.
func presetLabels(s *stack) decisionlog.Labels {
	deny := slices.Concat(decision.DenyReasons(), jwks.Reasons())
	return decisionlog.Labels{
		DenyReasons:     deny,
		DegradedReasons: slices.Concat(decision.DegradedReasons(), userinfo.DegradedReasons()),
		SpoofHeaders:    s.engine.StrippedHeaders(),
		Forwarders:      principals(s.cfg.TrustedForwarders),
	}
}

func principals(fs []config.TrustedForwarder) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Principal
	}
	return out
}
