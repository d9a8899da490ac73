package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUReader returns a process's total CPU time (user + system) so far. Run
// reads it before and after the measured run.
type CPUReader func(ctx context.Context) (time.Duration, error)

// MetricsCPU reads process_cpu_seconds_total from a Prometheus text
// endpoint (a Go server's /metrics). client nil means a client with a 5s
// timeout.
func MetricsCPU(client *http.Client, url string) CPUReader {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return func(ctx context.Context) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, fmt.Errorf("loadgen: metrics url: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("loadgen: metrics: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("loadgen: metrics %s: status %d", url, resp.StatusCode)
		}
		return parseProcessCPU(resp.Body)
	}
}

// parseProcessCPU finds the unlabelled process_cpu_seconds_total sample.
func parseProcessCPU(r io.Reader) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		s, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("loadgen: process_cpu_seconds_total: %w", err)
		}
		return time.Duration(s * float64(time.Second)), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("loadgen: metrics: %w", err)
	}
	return 0, fmt.Errorf("loadgen: metrics: no process_cpu_seconds_total")
}

// userHZ is the kernel's USER_HZ, the unit of /proc/<pid>/stat times; it is
// 100 on every Linux architecture Go supports.
const userHZ = 100

// ProcCPU reads utime+stime from /proc/<pid>/stat (Linux), in 10ms ticks.
func ProcCPU(pid int) CPUReader {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	return func(context.Context) (time.Duration, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("loadgen: %w", err)
		}
		return parseProcStat(string(b))
	}
}

// parseProcStat reads fields 14 (utime) and 15 (stime). The command name
// (field 2) is in parentheses and may hold spaces, so fields are counted
// from the last ')'.
func parseProcStat(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: /proc stat: malformed")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: /proc stat: malformed")
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadgen: /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
