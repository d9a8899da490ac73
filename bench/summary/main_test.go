package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestSummarizeRatios: medians per scenario, and the ratios of idgate's
// Checks to the null server's and to the OPA-Envoy stand-in's.
func TestSummarizeRatios(t *testing.T) {
	lines := `{"scenario":"null","rps":20000,"p99_us":2000,"server_cpu_per_check_us":40}
{"scenario":"cold","rps":8000,"p99_us":5000,"server_cpu_per_check_us":100}
{"scenario":"cold","rps":10000,"p99_us":6000,"server_cpu_per_check_us":140}
{"scenario":"cold","rps":9000,"p99_us":4000,"server_cpu_per_check_us":120}
{"scenario":"opa","rps":2000,"p99_us":20000,"server_cpu_per_check_us":800}
{"scenario":"opa-rs256","rps":4000,"p99_us":10000,"server_cpu_per_check_us":400}
{"scenario":"warm","rps":15000,"p99_us":3000,"server_cpu_per_check_us":60}
{"scenario":"opa-warm","rps":2500,"p99_us":15000,"server_cpu_per_check_us":600}
`
	var out bytes.Buffer
	summarize(strings.NewReader(lines), &out, io.Discard)
	for _, want := range []string{
		"cold                   3       9000      ",
		"cold/null: cpu per Check 3.00×, rps 0.45×",
		"cold/opa: cpu per Check 0.15× (goal ≤ 0.2), rps 4.50×, p99 0.25×",
		"cold/opa-rs256: cpu per Check 0.30×, rps 2.25×, p99 0.50×",
		"warm/opa-warm: cpu per Check 0.10×, rps 6.00×, p99 0.20×",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "opa-keycache") {
		t.Errorf("a ratio for a scenario that did not run:\n%s", out.String())
	}
}
