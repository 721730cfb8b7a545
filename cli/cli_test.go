package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// run runs the CLI in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAskDemoAdminsIdle(t *testing.T) {
	code, out, errs := run(t, "ask", "--demo", "--owners", "", "--format", "json", "admins idle 30 days")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var a Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	if a.Question != "admins idle 30 days" || a.Plan == nil || len(a.Rows) == 0 || len(a.Evidence) != len(a.Rows) {
		t.Fatalf("answer shape: question %q, plan %v, %d rows, %d evidence", a.Question, a.Plan, len(a.Rows), len(a.Evidence))
	}
	// Every row's evidence must appear in the export and lead from the
	// row's identity to an admin grant; its last activity must be older
	// than now - 30 days.
	code, exp, errs := run(t, "export", "--demo", "--owners", "")
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	exported := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(exp), "\n") {
		var line graph.Line
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		if line.Type == "edge" {
			exported[edgeKey(line.From, line.To, line.Kind, line.Props)] = true
		}
	}
	col := func(name string) int {
		for i, c := range a.Columns {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, a.Columns)
		return -1
	}
	idC, lastC, createdC := col("id"), col("last_used_at"), col("created_at")
	cut := demo.Reference.Add(-30 * 24 * time.Hour)
	for i, r := range a.Rows {
		id := r[idC].(string)
		reach := map[string]bool{id: true}
		admin := false
		for changed := true; changed; {
			changed = false
			for _, e := range a.Evidence[i] {
				if e.Kind == graph.EdgeOwns || e.Kind == graph.EdgeUsed || e.Kind == graph.EdgeLeaked {
					continue
				}
				if !exported[edgeKey(e.From, e.To, string(e.Kind), e.Props)] {
					t.Fatalf("row %s: evidence edge %s -%s-> %s not in export", id, e.From, e.Kind, e.To)
				}
				from, to := e.From, e.To
				if e.Kind == graph.EdgeAttachedTo {
					from, to = to, from
				}
				if reach[from] && !reach[to] {
					reach[to], changed = true, true
				}
				if reach[e.From] && e.Kind == graph.EdgeGrants && e.Props["privilege"] == "admin" {
					admin = true
				}
			}
		}
		if !admin {
			t.Errorf("row %s: evidence does not reach an admin grant", id)
		}
		last, _ := r[lastC].(string)
		if last == "" {
			last, _ = r[createdC].(string)
		}
		if last != "" {
			ts, err := time.Parse(time.RFC3339, last)
			if err != nil || !ts.Before(cut.Add(time.Second)) {
				t.Errorf("row %s: last activity %s not older than %s", id, last, cut)
			}
		}
	}
}

func edgeKey(from, to, kind string, props map[string]any) string {
	b, _ := json.Marshal(props)
	return from + "|" + to + "|" + kind + "|" + string(b)
}

func TestAskUnmapped(t *testing.T) {
	code, out, errs := run(t, "ask", "--demo", "what is the weather in Paris")
	if code != ExitError || out != "" || !strings.Contains(errs, "Try questions like") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ask", "--demo", "--format", "xml", "admins"}, "--format"},
		{[]string{"ask", "--demo", "--graph", "x.db", "admins"}, "exclusive"},
		{[]string{"ask", "--demo", "--now", "yesterday", "admins"}, "--now"},
		{[]string{"query", "--demo"}, "--plan"},
		{[]string{"load", "nosuch"}, "unknown connector"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := run(t, tt.args...)
			if code != ExitUsage || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q, want usage error naming %q", code, errs, tt.want)
			}
		})
	}
}

func TestExportLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	code, exp1, errs := run(t, "export", "--demo", "--size", "300", "--owners", "")
	if code != 0 {
		t.Fatalf("export: %s", errs)
	}
	file := filepath.Join(dir, "g.jsonl")
	os.WriteFile(file, []byte(exp1), 0o600)
	db := filepath.Join(dir, "g.db")
	if code, _, errs := run(t, "load", "graph", "--from", file, "--graph", db); code != 0 {
		t.Fatalf("load: %s", errs)
	}
	code, exp2, errs := run(t, "export", "--graph", db, "--owners", "")
	if code != 0 {
		t.Fatalf("export 2: %s", errs)
	}
	if exp1 != exp2 {
		t.Fatalf("round trip differs: %d vs %d bytes", len(exp1), len(exp2))
	}
}

func TestBadLoadKeepsGraph(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "g.db")
	code, exp, _ := run(t, "export", "--demo", "--size", "300", "--owners", "")
	if code != 0 {
		t.Fatal("export failed")
	}
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(exp), 0o600)
	if code, _, errs := run(t, "load", "graph", "--from", good, "--graph", db); code != 0 {
		t.Fatal(errs)
	}
	ask := func() string {
		code, out, errs := run(t, "ask", "--graph", db, "--owners", "", "--now", demo.Reference.Format(time.RFC3339), "--format", "csv", "admins idle 30 days")
		if code != 0 {
			t.Fatalf("ask: %s", errs)
		}
		return out
	}
	before := ask()
	if strings.Count(before, "\n") < 2 {
		t.Fatalf("expected answers before, got %q", before)
	}
	// A malformed file: the first lines are fine, line 3 is cut short.
	lines := strings.SplitN(exp, "\n", 4)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(lines[0]+"\n"+lines[1]+"\n"+lines[2][:len(lines[2])/2]+"\n"), 0o600)
	code, _, errs := run(t, "load", "graph", "--from", bad, "--graph", db)
	if code == 0 || !strings.Contains(errs, "bad.jsonl:3") {
		t.Fatalf("bad load: exit %d, %q (want the file and line named)", code, errs)
	}
	if after := ask(); after != before {
		t.Fatal("a failed load changed the answers")
	}
}

func TestAskAuditLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	for _, q := range []string{"admins idle 30 days", "what is the weather"} {
		run(t, "ask", "--demo", "--owners", "", "--audit-log", log, q)
	}
	code, out, errs := run(t, "audit", "verify", "--log", log)
	if code != 0 || !strings.Contains(out, "2 records, chain intact") {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}
	data, _ := os.ReadFile(log)
	if !strings.Contains(string(data), `"outcome":"not_mapped"`) || !strings.Contains(string(data), `idle_days`) {
		t.Fatalf("audit records: %s", data)
	}
	// One altered byte breaks the chain and verify names the record.
	os.WriteFile(log, []byte(strings.Replace(string(data), "admins idle 30", "admins idle 31", 1)), 0o600)
	code, _, errs = run(t, "audit", "verify", "--log", log)
	if code == 0 || !strings.Contains(errs, "seq 1") {
		t.Fatalf("tampered log: exit %d, %q", code, errs)
	}
}

func TestOwnerSetFlagsAfterArgs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owners.json")
	code, _, errs := run(t, "owner", "set", "--demo", "aws:111111111111:user/ci-deployer", "aaron.roberts@example.com", "--reason", "team lead says so", "--owners", path, "--by", "tester")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, out, _ := run(t, "owner", "list", "--owners", path)
	if code != 0 || !strings.Contains(out, "aws:111111111111:user/ci-deployer") || !strings.Contains(out, "team lead says so") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, _, _ := run(t, "owner", "unset", "--owners", path, "aws:111111111111:user/ci-deployer"); code != 0 {
		t.Fatal("unset failed")
	}
	if code, _, errs := run(t, "owner", "set", "only-one-arg", "--reason", "x", "--owners", path); code != ExitUsage {
		t.Fatalf("want usage error, got %d %s", code, errs)
	}
}

func TestDemoToBoltThenQuery(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	if code, _, errs := run(t, "demo", "--size", "300", "--out", db); code != 0 {
		t.Fatalf("demo: %s", errs)
	}
	plan := filepath.Join(dir, "plan.json")
	os.WriteFile(plan, []byte(`{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}],"group_by":["source_type"]}`), 0o600)
	code, fromBolt, errs := run(t, "query", "--graph", db, "--owners", "", "--plan", plan, "--format", "csv")
	if code != 0 {
		t.Fatalf("query: %s", errs)
	}
	_, fromMem, _ := run(t, "query", "--demo", "--size", "300", "--owners", "", "--plan", plan, "--format", "csv")
	if fromBolt != fromMem || strings.Count(fromBolt, "\n") < 3 {
		t.Fatalf("bolt and memory answers differ or are empty:\n%s\n---\n%s", fromBolt, fromMem)
	}
	// A plan with a bad field is refused naming it.
	os.WriteFile(plan, []byte(`{"version":1,"filters":[{"field":"privilege","op":"gte","value":"root"}]}`), 0o600)
	if code, _, errs := run(t, "query", "--graph", db, "--plan", plan); code != ExitError || !strings.Contains(errs, "filters[0].value") {
		t.Fatalf("bad plan: %d %s", code, errs)
	}
}

func TestSyncRecordsEachConnector(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(good, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"one","props":{"status":"active"}}`+"\n"), 0o600)
	os.WriteFile(bad, []byte("{\"type\":\n"), 0o600)
	cfg := filepath.Join(dir, "steward.yaml")
	db := filepath.Join(dir, "g.db")
	logPath := filepath.Join(dir, "audit.log")
	os.WriteFile(cfg, []byte("graph: "+db+"\naudit_log: "+logPath+"\nconnectors:\n  - {name: good, type: graph, options: {from: "+good+"}}\n  - {name: broken, type: graph, options: {from: "+bad+"}}\n"), 0o600)
	code, out, errs := run(t, "sync", "--config", cfg)
	if code != ExitError || !strings.Contains(errs, "1 of 2 connectors failed") || !strings.Contains(out, "bad.jsonl:1") {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errs)
	}
	data, _ := os.ReadFile(logPath)
	if strings.Count(string(data), `"action":"sync"`) != 2 || !strings.Contains(string(data), `"outcome":"failed"`) {
		t.Fatalf("audit: %s", data)
	}
	code, exp, _ := run(t, "export", "--graph", db)
	if code != 0 || !strings.Contains(exp, `"id":"x:1"`) {
		t.Fatalf("good source not stored: %s", exp)
	}
}

func TestUnusedAndAnomalies(t *testing.T) {
	code, out, errs := run(t, "unused", "--demo", "--owners", "", "--format", "json", "ci-deployer")
	if code != 0 {
		t.Fatalf("unused: %d %s", code, errs)
	}
	var rep struct {
		Identity string   `json:"identity"`
		Unused   []string `json:"unused"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Identity != "aws:111111111111:user/ci-deployer" || len(rep.Unused) == 0 {
		t.Fatalf("report %q: %+v %v", out, rep, err)
	}
	if code, _, errs := run(t, "unused", "--demo", "--owners", "", "ci-deploer"); code != ExitError || !strings.Contains(errs, "did you mean") {
		t.Fatalf("misspelt identity: %d %s", code, errs)
	}
	// Unfiltered, the demo's identities rotate among their source's few
	// client addresses: 1,421 "anomalies" of noise. By default (7 days,
	// 2 earlier uses, addresses the source already uses are known) none.
	code, out, _ = run(t, "anomalies", "--demo", "--owners", "", "--window", "0", "--min-baseline", "0", "--per-subject")
	if code != 0 || !strings.Contains(out, "new_source_ip") || !strings.Contains(out, "(1421 anomalies)") {
		t.Fatalf("unfiltered anomalies: %d %s", code, out[max(0, len(out)-300):])
	}
	code, out, _ = run(t, "anomalies", "--demo", "--owners", "")
	if code != 0 || !strings.Contains(out, "(0 anomalies)") {
		t.Fatalf("anomalies: %d %s", code, out[max(0, len(out)-300):])
	}
}
