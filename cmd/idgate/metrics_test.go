package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// metricsAddr finds metrics_addr in idgate's "idgate listening" log line.
func metricsAddr(t *testing.T, logs string) string {
	t.Helper()
	for _, l := range strings.Split(logs, "\n") {
		var line struct {
			Msg         string `json:"msg"`
			MetricsAddr string `json:"metrics_addr"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "idgate listening" {
			return line.MetricsAddr
		}
	}
	t.Fatalf("no metrics_addr in\n%s", logs)
	return ""
}

// TestMetricsOwnPortAndZeroSeries: with server.metrics_addr, /metrics is
// served there and not on the forward-auth port; a fresh idgate exports
// every known series (at zero), build_info and reload status, and not the
// removed duplicates.
func TestMetricsOwnPortAndZeroSeries(t *testing.T) {
	idp := mustIdP(t)
	in := mustStart(t, fmt.Sprintf(`
server: {grpc_addr: "127.0.0.1:0", http_addr: "127.0.0.1:0", metrics_addr: "127.0.0.1:0", shutdown_grace: 2s}
issuers:
  - issuer: %s
    audiences: [kubeflow]
`, idp.Issuer()))
	in.waitReady(t)
	maddr := metricsAddr(t, in.logs.String())
	if maddr == in.httpAddr {
		t.Fatalf("metrics_addr %s is the HTTP address", maddr)
	}
	resp, err := http.Get("http://" + in.httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on http_addr: %d, want 404 when metrics_addr is set", resp.StatusCode)
	}
	m := get(t, "http://"+maddr+"/metrics")
	iss := regexp.QuoteMeta(idp.Issuer())
	for _, want := range []string{
		`idgate_build_info\{commit="[^"]+",goversion="go[^"]+",version="[^"]+"\} 1`,
		`idgate_config_last_reload_success 1`,
		`idgate_config_last_reload_success_timestamp_seconds [1-9]`,
		`idgate_checks_in_flight 0`,
		`idgate_check_duration_seconds_count\{result="error"\} 0`,
		`idgate_decisions_total\{reason="missing_token",result="deny"\} 0`,
		`idgate_decisions_total\{reason="expired",result="deny"\} 0`,
		`idgate_enrichment_degraded_total\{reason="userinfo_timeout"\} 0`,
		`idgate_spoof_attempts_total\{header="kubeflow-userid"\} 0`,
		`idgate_jwks_fetches_total\{issuer="` + iss + `",result="error"\} 0`,
		`idgate_userinfo_negative_hits_total 0`,
		`idgate_userinfo_dropped_values_total\{field="email"\} 0`,
		`idgate_profilecache_gets_total\{result="error"\} 0`,
	} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(m) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, gone := range []string{"idgate_userinfo_cache_total", "idgate_userinfo_sub_mismatch_total"} {
		if strings.Contains(m, gone) {
			t.Errorf("metrics still export %s (a duplicate)", gone)
		}
	}
}

// TestReloadMetrics: a refused reload sets config_last_reload_success to
// 0; the next applied one sets it to 1 and moves its timestamp.
func TestReloadMetrics(t *testing.T) {
	idp := mustIdP(t)
	base := plainConfig(idp.Issuer(), "flyte") + "watch_config: true\n"
	in := mustStart(t, base)
	in.waitReady(t)
	metric := func() string { return get(t, "http://"+in.httpAddr+"/metrics") }
	if err := os.WriteFile(in.configPath, []byte(base+"routes: [{path_prefix: docs}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.eventually(t, "reload_success 0 after a bad file", func() bool {
		return strings.Contains(metric(), "\nidgate_config_last_reload_success 0\n")
	})
	if err := os.WriteFile(in.configPath, []byte(base+"routes: [{path_prefix: /docs, public: true}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.eventually(t, "reload_success 1 after a good file", func() bool {
		return strings.Contains(metric(), "\nidgate_config_last_reload_success 1\n")
	})
}
