// Command summary reads bench/run.sh's JSON lines on stdin and prints, per
// scenario, the median of each figure over the runs, the ratios of idgate's
// warm and cold Checks to the null server's (empty and idgate-shaped
// answers) and to the OPA-Envoy stand-in's (bench/opaauthz), and how the warm Check grows with routes, issuers and strip
// headers.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// line is one result: a load run (idgate load --json) or a memory sample.
type line struct {
	Scenario  string  `json:"scenario"`
	Load      string  `json:"load"`
	RPS       float64 `json:"rps"`
	P50       float64 `json:"p50_us"`
	P99       float64 `json:"p99_us"`
	CPU       float64 `json:"server_cpu_per_check_us"`
	Errors    int64   `json:"errors"`
	Cached    float64 `json:"cached"`
	RSSBefore float64 `json:"rss_kb_before"`
	RSS       float64 `json:"rss_kb"`
	HeapStart float64 `json:"heap_before"`
	Heap      float64 `json:"heap"`
	RSSAnon   float64 `json:"rss_anon_kb"` // RssAnon of /proc/PID/status
	RSSFile   float64 `json:"rss_file_kb"` // RssFile: the binary's mapped pages
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type figures struct{ rps, p50, p99, cpu, rss, anon, file, perToken []float64 }

func main() { summarize(os.Stdin, os.Stdout, os.Stderr) }

// summarize reads result lines from in and prints the table and ratios to
// out; a run with errors is named on errw.
func summarize(in io.Reader, out, errw io.Writer) {
	by := map[string]*figures{}
	var order []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Scenario == "" {
			continue
		}
		if l.Cached > 0 {
			l.Scenario = fmt.Sprintf("%s-%.0f", l.Scenario, l.Cached)
		}
		f := by[l.Scenario]
		if f == nil {
			f = &figures{}
			by[l.Scenario] = f
			order = append(order, l.Scenario)
		}
		if l.Errors > 0 {
			fmt.Fprintf(errw, "%s: a run had %d errors\n", l.Scenario, l.Errors)
		}
		f.rps, f.p50, f.p99, f.cpu = append(f.rps, l.RPS), append(f.p50, l.P50), append(f.p99, l.P99), append(f.cpu, l.CPU)
		if l.Cached > 0 {
			f.rss = append(f.rss, l.RSS/1024)
			f.anon, f.file = append(f.anon, l.RSSAnon/1024), append(f.file, l.RSSFile/1024)
			f.perToken = append(f.perToken, (l.Heap-l.HeapStart)/l.Cached)
		}
	}
	fmt.Fprintf(out, "%-18s %5s %10s %9s %9s %12s\n", "scenario", "runs", "rps", "p50 µs", "p99 µs", "cpu/Check µs")
	for _, s := range order {
		f := by[s]
		if len(f.rss) > 0 {
			fmt.Fprintf(out, "%-18s %5d RSS %.1f MB (anonymous %.1f, file %.1f), heap %.0f bytes per cached token\n",
				s, len(f.rss), median(f.rss), median(f.anon), median(f.file), median(f.perToken))
			continue
		}
		if s == "memory-fill" || s == "memory-fill-1" {
			continue
		}
		fmt.Fprintf(out, "%-18s %5d %10.0f %9.0f %9.0f %12.1f\n", s, len(f.rps), median(f.rps), median(f.p50), median(f.p99), median(f.cpu))
	}
	for _, base := range []string{"null", "nullbytes"} {
		n := by[base]
		if n == nil {
			continue
		}
		if w := by["warm"]; w != nil {
			fmt.Fprintf(out, "warm/%s: cpu per Check %.2f× (goal ≤ 1.3), rps %.2f× (goal ≥ 0.85), p99 %.2f× (goal ≤ 1.2)\n",
				base, median(w.cpu)/median(n.cpu), median(w.rps)/median(n.rps), median(w.p99)/median(n.p99))
		}
		if c := by["cold"]; c != nil {
			fmt.Fprintf(out, "cold/%s: cpu per Check %.2f×, rps %.2f×\n", base, median(c.cpu)/median(n.cpu), median(c.rps)/median(n.rps))
		}
	}
	// idgate against the OPA-Envoy stand-in (bench/opaauthz): cold against
	// cold (issue 15: ≤ 0.2× the CPU), warm against one repeated token.
	for _, p := range []struct{ ours, theirs, goal string }{
		{"cold", "opa", " (goal ≤ 0.2)"}, {"cold", "opa-rs256", ""}, {"cold", "opa-keycache", ""},
		{"warm", "opa-warm", ""},
	} {
		o, t := by[p.ours], by[p.theirs]
		if o == nil || t == nil {
			continue
		}
		fmt.Fprintf(out, "%s/%s: cpu per Check %.2f×%s, rps %.2f×, p99 %.2f×\n", p.ours, p.theirs,
			median(o.cpu)/median(t.cpu), p.goal, median(o.rps)/median(t.rps), median(o.p99)/median(t.p99))
	}
	if w := by["warm"]; w != nil {
		for _, s := range order {
			if g := by[s]; strings.HasPrefix(s, "warm-") && len(g.rss) == 0 {
				fmt.Fprintf(out, "%s/warm: cpu per Check %.2f×, rps %.2f×\n", s, median(g.cpu)/median(w.cpu), median(g.rps)/median(w.rps))
			}
		}
	}
}
