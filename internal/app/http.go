package app

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpHandler serves the operational endpoints:
//
//	GET /healthz                 200 while the process runs
//	GET /readyz                  200 once every issuer's keys are loaded, 503 before and while stopping;
//	                             a 503 names each unready dependency and why, one line each
//	GET /metrics                 Prometheus metrics (unless server.metrics_addr serves them apart)
//	GET /.well-known/jwks.json   idgate's public signing keys (verify x-flyte-identity)
//	GET /alb-public-keys/{kid}    the same key as PEM, shaped like ALB's regional key endpoint
//	ANY server.authz_path        HTTP forward-auth (nginx auth_request, Traefik forwardAuth)
func (a *App) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(a.cfg.Server.AuthzPath, a.forward)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if why := a.Unready(); len(why) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			for _, line := range why {
				_, _ = w.Write([]byte("not ready: " + line + "\n"))
			}
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if a.cfg.Server.MetricsAddr == "" {
		mux.Handle("GET /metrics", a.metricsHandler())
	}
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(a.cur.Load().key.JWKS())
	})
	mux.HandleFunc("GET /alb-public-keys/{kid}", func(w http.ResponseWriter, r *http.Request) {
		key := a.cur.Load().key
		if r.PathValue("kid") != key.KeyID() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(key.PublicKeyPEM())
	})
	return mux
}

// metricsHandler serves the process's Prometheus registry.
func (a *App) metricsHandler() http.Handler {
	return promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{})
}
