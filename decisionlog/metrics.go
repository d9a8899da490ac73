package decisionlog

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/internal/cache"
)

// Metrics are the decision metrics, namespace "idgate":
//
//	idgate_decisions_total{result,reason}   decisions by allow/deny and reason
//	idgate_check_duration_seconds{result}   time to decide, per Check: allowed, denied, error
//	idgate_checks_in_flight                 ext_authz Checks being decided now
//	idgate_spoof_attempts_total{header}     identity headers clients sent
//	idgate_enrichment_degraded_total{reason} requests allowed on token claims only
//	idgate_check_errors_total               faults returned as gRPC errors
//	idgate_shadow_mismatches_total{header}  shadow mode: incoming identity differs from idgate's
//	idgate_groups_overage_total             tokens whose IdP left groups out (Entra ID overage)
//	idgate_forwarded_total{principal}       requests whose identity headers a trusted forwarder passed on
//
// The HTTP forward-auth front end records into the same metrics. Label
// values are bounded: results and reasons are fixed sets, headers come from
// the strip list, principals from the configured trusted forwarders. The known label sets are exported at zero (Preset).
type Metrics struct {
	decisions *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	// durAllowed, durDenied, durError are duration's three series, resolved once.
	durAllowed, durDenied, durError prometheus.Observer
	inFlight                        prometheus.Gauge
	spoofed                         *prometheus.CounterVec
	degraded                        *prometheus.CounterVec
	errors                          prometheus.Counter
	mismatch                        *prometheus.CounterVec
	overage                         prometheus.Counter
	forwarded                       *prometheus.CounterVec
	// The children of the counter vectors above, cached by label values.
	decisionsC, spoofedC, degradedC, mismatchC, forwardedC counterChildren
}

// NewMetrics creates and registers the metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "idgate", Name: "decisions_total",
			Help: "Authorization decisions by result (allow, deny) and reason."}, []string{"result", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "idgate", Name: "check_duration_seconds",
			Help:    "Time to decide one request, by result: allowed, denied (shadow mode: what enforce mode would do), error (a fault returned as a gRPC error).",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .2, .5}}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "idgate", Name: "checks_in_flight",
			Help: "ext_authz Checks being decided now."}),
		spoofed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "idgate", Name: "spoof_attempts_total",
			Help: "Requests that arrived carrying an identity header idgate strips, by header name."}, []string{"header"}),
		degraded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "idgate", Name: "enrichment_degraded_total",
			Help: "Allowed requests whose profile enrichment failed, so only the token's claims were used."}, []string{"reason"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "idgate", Name: "check_errors_total",
			Help: "Checks that failed inside idgate and returned a gRPC error."}),
		mismatch: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "idgate", Name: "shadow_mismatches_total",
			Help: "Shadow mode: requests whose incoming identity header differs from idgate's (\"decision\": idgate would deny)."}, []string{"header"}),
		overage: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "idgate", Name: "groups_overage_total",
			Help: "Decisions for tokens whose IdP reported more groups than it put in the token (Entra ID _claim_names/hasgroups): kubeflow-groups is incomplete."}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "idgate", Name: "forwarded_total",
			Help: "Requests allowed on identity headers a trusted forwarder (by mTLS principal) passed on."}, []string{"principal"}),
	}
	m.decisionsC = newCounterChildren(m.decisions, 2)
	m.spoofedC = newCounterChildren(m.spoofed, 1)
	m.degradedC = newCounterChildren(m.degraded, 1)
	m.mismatchC = newCounterChildren(m.mismatch, 1)
	m.forwardedC = newCounterChildren(m.forwarded, 1)
	m.durAllowed = m.duration.WithLabelValues("allowed")
	m.durDenied = m.duration.WithLabelValues("denied")
	m.durError = m.duration.WithLabelValues("error")
	m.Preset(Labels{})
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decisions, m.duration, m.inFlight, m.spoofed, m.degraded, m.errors, m.mismatch, m.overage, m.forwarded} {
			if err := reg.Register(c); err != nil {
				// A second registration would leave these collectors
				// unexported: fail at start-up instead.
				return nil, fmt.Errorf("decisionlog: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *Metrics) observe(res *decision.Result, d time.Duration) {
	m.decisionsC.get(Result(res), res.Reason).Inc()
	if res.Allowed && !res.Shadow || res.Shadow && res.WouldAllow {
		m.durAllowed.Observe(d.Seconds())
	} else {
		m.durDenied.Observe(d.Seconds())
	}
	for _, h := range res.Spoofed {
		m.spoofedC.get(h, "").Inc()
	}
	if res.Identity != nil && res.Identity.Degraded != "" {
		m.degradedC.get(res.Identity.Degraded, "").Inc()
	}
	if res.Identity != nil && res.Identity.GroupsOverage {
		m.overage.Inc()
	}
	for _, h := range res.Mismatches {
		m.mismatchC.get(h, "").Inc()
	}
	if res.Forwarder != "" { // a configured principal: a bounded label
		m.forwardedC.get(res.Forwarder, "").Inc()
	}
}

// Labels are label values known at start. Preset exports each at zero, so
// rate() and alerts see a series before its first event.
type Labels struct {
	// DenyReasons are decisions_total{result="deny"} reasons.
	DenyReasons []string
	// DegradedReasons are enrichment_degraded_total reasons.
	DegradedReasons []string
	// SpoofHeaders are spoof_attempts_total header names.
	SpoofHeaders []string
	// Forwarders are forwarded_total principals (the trusted forwarders).
	Forwarders []string
}

// Preset exports l's label sets at zero, with the reasons the front ends
// themselves give (allow: ok, public, forwarded; deny: bad_request). It may be called again
// (after a reload) to add new ones.
func (m *Metrics) Preset(l Labels) {
	m.decisions.WithLabelValues("allow", "ok")
	m.decisions.WithLabelValues("allow", "public")
	m.decisions.WithLabelValues("allow", "forwarded")
	m.decisions.WithLabelValues("deny", ReasonBadRequest)
	for _, r := range l.DenyReasons {
		m.decisions.WithLabelValues("deny", r)
	}
	for _, r := range l.DegradedReasons {
		m.degraded.WithLabelValues(r)
	}
	for _, h := range l.SpoofHeaders {
		m.spoofed.WithLabelValues(h)
	}
	for _, p := range l.Forwarders {
		m.forwarded.WithLabelValues(p)
	}
}

// Result is the decision's result label (metrics, the log line, Envoy's
// dynamic metadata): allow, deny, or in shadow mode what enforce mode
// would have done (shadow_allow, shadow_deny).
func Result(res *decision.Result) string {
	switch {
	case res.Shadow && res.WouldAllow:
		return "shadow_allow"
	case res.Shadow:
		return "shadow_deny"
	case res.Allowed:
		return "allow"
	}
	return "deny"
}

// counterChildren caches the children of a counter vector of one or two
// labels by their values, so an event costs a lock-free map read instead
// of hashing label values under the vector's lock. Label values are
// bounded sets (results × reasons, strip-list headers, degraded reasons,
// configured principals); past maxCachedCounters the vector is asked.
type counterChildren struct {
	vec    *prometheus.CounterVec
	labels int // 1 or 2
	c      *cache.ReadMostly[[2]string, prometheus.Counter]
}

// maxCachedCounters bounds each cache.
const maxCachedCounters = 256

func newCounterChildren(vec *prometheus.CounterVec, labels int) counterChildren {
	return counterChildren{vec: vec, labels: labels, c: cache.NewReadMostly[[2]string, prometheus.Counter](maxCachedCounters)}
}

// get is the child for label values a (and b for a two-label vector; ""
// otherwise).
func (cc counterChildren) get(a, b string) prometheus.Counter {
	key := [2]string{a, b}
	if ctr, ok := cc.c.Get(key); ok {
		return ctr
	}
	return cc.c.GetOrAdd(key, func() prometheus.Counter {
		if cc.labels == 1 {
			return cc.vec.WithLabelValues(a)
		}
		return cc.vec.WithLabelValues(a, b)
	})
}
