package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// serve with a configured connector exposes the Go runtime, process,
// sync, question, proposal, action and audit series on /metrics, and
// every metric a panel of the Grafana dashboard queries is among them.
func TestServeMetricsAndDashboard(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dashboard, err := filepath.Abs(filepath.Join("..", "deploy", "grafana", "steward-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	jsonl := filepath.Join(dir, "one.jsonl")
	os.WriteFile(jsonl, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"one","props":{"status":"active"}}`+"\n"), 0o600)
	cfg := filepath.Join(dir, "steward.yaml")
	os.WriteFile(cfg, []byte("graph: "+filepath.Join(dir, "g.db")+"\naudit_log: "+filepath.Join(dir, "audit.log")+
		"\nsync: {interval: 1h}\nconnectors:\n  - {name: one, type: graph, options: {from: "+jsonl+"}}\n  - {name: broken, type: graph, options: {from: "+filepath.Join(dir, "missing.jsonl")+"}}\n"), 0o600)
	t.Setenv("STEWARD_API_KEYS", "metrics-key")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"serve", "--config", cfg, "--owners", "", "--listen", addr}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d: %s", code, stderr.String())
		}
	}()
	base := "http://" + addr
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer metrics-key")
		return http.DefaultClient.Do(req)
	}
	// Wait until serve is up and its first sync pass is in the metrics.
	var families map[string]*dto.MetricFamily
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := get("/metrics"); err == nil {
			p := expfmt.NewTextParser(model.UTF8Validation)
			families, err = p.TextToMetricFamilies(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if families["steward_sync_runs_total"] != nil && len(families["steward_sync_runs_total"].Metric) == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sync metrics: %s", stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, q := range []string{"admins idle 30 days", "what is the weather in Paris"} {
		req, _ := http.NewRequest("POST", base+"/v1/chat", strings.NewReader(`{"message":"`+q+`"}`))
		req.Header.Set("Authorization", "Bearer metrics-key")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err = p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels map[string]string) float64 {
		f := families[name]
		if f == nil {
			t.Fatalf("no metric %s", name)
		}
	next:
		for _, m := range f.Metric {
			for _, lp := range m.Label {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"steward_sync_errors_total", map[string]string{"connector": "broken"}, 1},
		{"steward_sync_errors_total", map[string]string{"connector": "one"}, 0},
		{"steward_sync_objects", map[string]string{"connector": "one", "object": "nodes"}, 1},
		{"steward_sync_duration_seconds", map[string]string{"connector": "one"}, 1},
		{"steward_questions_total", map[string]string{"outcome": "answered"}, 1},
		{"steward_questions_total", map[string]string{"outcome": "refused"}, 1},
		{"steward_proposals", map[string]string{"state": "proposed"}, 0},
		{"steward_actions", map[string]string{"state": "done"}, 0},
		{"steward_audit_append_failures_total", nil, 0},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if value("go_goroutines", nil) <= 0 || value("process_resident_memory_bytes", nil) <= 0 {
		t.Error("Go runtime or process collector missing")
	}

	// Every metric a dashboard panel queries exists.
	data, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	metricName := regexp.MustCompile(`\b(?:steward|go|process)_[a-z_]+\b`)
	if len(dash.Panels) < 10 {
		t.Fatalf("dashboard has %d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := metricName.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: no metric in %q", p.Title, tg.Expr)
			}
			for _, n := range names {
				base := n
				if families[n] == nil {
					for _, suf := range []string{"_bucket", "_sum", "_count"} {
						if b := strings.TrimSuffix(n, suf); b != n && families[b] != nil && families[b].GetType() == dto.MetricType_HISTOGRAM {
							base = b
						}
					}
				}
				if families[base] == nil {
					t.Errorf("panel %q queries %s, which /metrics does not expose", p.Title, n)
				}
			}
		}
	}
}
