// Command summary reads bench/run.sh's JSON lines on stdin and prints, per
// scenario, the median of each figure over the runs and the ratios of
// idgate's warm Check to the null server's.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
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

type figures struct{ rps, p50, p99, cpu, rss, perToken []float64 }

func main() {
	by := map[string]*figures{}
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Scenario == "" {
			continue
		}
		f := by[l.Scenario]
		if f == nil {
			f = &figures{}
			by[l.Scenario] = f
			order = append(order, l.Scenario)
		}
		if l.Errors > 0 {
			fmt.Fprintf(os.Stderr, "%s: a run had %d errors\n", l.Scenario, l.Errors)
		}
		f.rps, f.p50, f.p99, f.cpu = append(f.rps, l.RPS), append(f.p50, l.P50), append(f.p99, l.P99), append(f.cpu, l.CPU)
		if l.Cached > 0 {
			f.rss = append(f.rss, l.RSS/1024)
			f.perToken = append(f.perToken, (l.Heap-l.HeapStart)/l.Cached)
		}
	}
	fmt.Printf("%-10s %5s %10s %9s %9s %12s\n", "scenario", "runs", "rps", "p50 µs", "p99 µs", "cpu/Check µs")
	for _, s := range order {
		f := by[s]
		if len(f.rss) > 0 {
			fmt.Printf("%-10s %5d RSS %.1f MB, heap %.0f bytes per cached token\n", s, len(f.rss), median(f.rss), median(f.perToken))
			continue
		}
		if s == "memory-fill" || s == "memory-fill-1" {
			continue
		}
		fmt.Printf("%-10s %5d %10.0f %9.0f %9.0f %12.1f\n", s, len(f.rps), median(f.rps), median(f.p50), median(f.p99), median(f.cpu))
	}
	n, w := by["null"], by["warm"]
	if n != nil && w != nil {
		fmt.Printf("warm/null: cpu per Check %.2f× (goal ≤ 1.3), rps %.2f× (goal ≥ 0.85), p99 %.2f× (goal ≤ 1.2)\n",
			median(w.cpu)/median(n.cpu), median(w.rps)/median(n.rps), median(w.p99)/median(n.p99))
	}
}
