package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
)

// dashboard is the part of the Grafana dashboard JSON the tests read.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// grafanaVars stand in for Grafana's variables so an expression parses as
// Prometheus will receive it.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// promQL is Prometheus's parser with its default options, as a Prometheus
// server evaluating the rules would parse them.
var promQL = parser.NewParser(parser.Options{})

// expr is one PromQL expression and where it comes from.
type expr struct{ where, text string }

func mustRule(t *testing.T) *monitoringv1.PrometheusRule {
	t.Helper()
	var r monitoringv1.PrometheusRule
	if err := unmarshalStrict(MustReadFile(t, "monitoring/prometheusrule.yaml"), &r); err != nil {
		t.Fatalf("prometheusrule.yaml: strict decode into PrometheusRule: %v", err)
	}
	return &r
}

func mustDashboard(t *testing.T) *dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(MustReadFile(t, "monitoring/grafana-dashboard.json"), &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	return &d
}

// monitoringExprs are every PromQL expression of the alert rules and the
// dashboard's targets.
func monitoringExprs(t *testing.T) []expr {
	t.Helper()
	var out []expr
	for _, g := range mustRule(t).Spec.Groups {
		for _, r := range g.Rules {
			out = append(out, expr{"alert " + r.Alert, r.Expr.String()})
		}
	}
	for _, p := range mustDashboard(t).Panels {
		for _, tg := range p.Targets {
			out = append(out, expr{"panel " + p.Title, grafanaVars.Replace(tg.Expr)})
		}
	}
	return out
}

func TestMonitoringManifestsDecodeStrictly(t *testing.T) {
	var svc corev1.Service
	if err := unmarshalStrict(MustReadFile(t, "kubernetes/base/service.yaml"), &svc); err != nil {
		t.Fatal(err)
	}
	var sm monitoringv1.ServiceMonitor
	if err := unmarshalStrict(MustReadFile(t, "monitoring/servicemonitor.yaml"), &sm); err != nil {
		t.Fatalf("servicemonitor.yaml: strict decode into ServiceMonitor: %v", err)
	}
	var pm monitoringv1.PodMonitor
	if err := unmarshalStrict(MustReadFile(t, "monitoring/podmonitor.yaml"), &pm); err != nil {
		t.Fatalf("podmonitor.yaml: strict decode into PodMonitor: %v", err)
	}
	t.Run("ServiceMonitor selects the Service's metrics port", func(t *testing.T) {
		if sm.Kind != monitoringv1.ServiceMonitorsKind || sm.APIVersion != "monitoring.coreos.com/v1" {
			t.Fatalf("kind %s %s", sm.APIVersion, sm.Kind)
		}
		for k, v := range sm.Spec.Selector.MatchLabels {
			if svc.Labels[k] != v {
				t.Errorf("selector %s=%s does not match the Service's labels %v", k, v, svc.Labels)
			}
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Fatalf("endpoints %+v", sm.Spec.Endpoints)
		}
		found := false
		for _, p := range svc.Spec.Ports {
			found = found || p.Name == sm.Spec.Endpoints[0].Port
		}
		if !found {
			t.Errorf("port %q is not a port of the Service", sm.Spec.Endpoints[0].Port)
		}
	})
	t.Run("PodMonitor", func(t *testing.T) {
		if pm.Kind != monitoringv1.PodMonitorsKind || len(pm.Spec.PodMetricsEndpoints) != 1 ||
			pm.Spec.PodMetricsEndpoints[0].Path != "/metrics" || pm.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "idgate" {
			t.Fatalf("podmonitor %+v", pm.Spec)
		}
	})
	t.Run("every alert has severity, summary and description", func(t *testing.T) {
		r := mustRule(t)
		if r.Kind != monitoringv1.PrometheusRuleKind {
			t.Fatalf("kind %s", r.Kind)
		}
		n := 0
		for _, g := range r.Spec.Groups {
			for _, rule := range g.Rules {
				n++
				if rule.Alert == "" || rule.Labels["severity"] == "" || rule.Annotations["summary"] == "" || rule.Annotations["description"] == "" {
					t.Errorf("rule %+v lacks alert name, severity, summary or description", rule)
				}
			}
		}
		if n < 7 {
			t.Errorf("%d alerts, want at least 7", n)
		}
	})
}

// TestMonitoringExpressionsParse parses every alert and panel expression
// with Prometheus's own parser.
func TestMonitoringExpressionsParse(t *testing.T) {
	for _, e := range monitoringExprs(t) {
		t.Run(e.where, func(t *testing.T) {
			if _, err := promQL.ParseExpr(e.text); err != nil {
				t.Fatalf("%s: %v", e.text, err)
			}
		})
	}
}

// metricNames are the metric names e's selectors name.
func metricNames(t *testing.T, e expr) []string {
	t.Helper()
	ast, err := promQL.ParseExpr(e.text)
	if err != nil {
		t.Fatalf("%s: %v", e.where, err)
	}
	var names []string
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
			if name == "" {
				t.Errorf("%s: a selector without a metric name: %s", e.where, vs)
			}
			names = append(names, name)
		}
		return nil
	})
	return names
}

// TestMonitoringMetricsExist builds idgate, runs `idgate dev` on port 0,
// scrapes its /metrics and checks that every metric the alerts and the
// dashboard use is exported by a fresh idgate, before any traffic.
func TestMonitoringMetricsExist(t *testing.T) {
	exported := scrapeLiveIdgate(t)
	for _, e := range monitoringExprs(t) {
		for _, name := range metricNames(t, e) {
			if !exported[name] {
				t.Errorf("%s uses %s, which a running idgate does not export", e.where, name)
			}
		}
	}
}

// scrapeLiveIdgate returns the metric names (samples, _bucket etc.
// included) a fresh `idgate dev` exports once ready.
func scrapeLiveIdgate(t *testing.T) map[string]bool {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "idgate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/idgate")
	build.Dir = ".."
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "IDGATE_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	httpRE := regexp.MustCompile(`HTTP: http://(\S+)`)
	var addr string
	sc := bufio.NewScanner(stdout)
	for addr == "" && sc.Scan() {
		if m := httpRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("no HTTP address in idgate dev's banner\n%s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc = bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	if len(names) == 0 {
		t.Fatal("empty /metrics")
	}
	return names
}
