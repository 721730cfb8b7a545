package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// steward sources lists what the store holds and, from the audit log, the
// connector that last synced each source and the error of a failed run.
func TestSources(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(good, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"one","props":{"status":"active"}}`+"\n"+
		`{"type":"node","id":"x:2","kind":"group","source":"x","name":"two"}`+"\n"+
		`{"type":"edge","from":"x:1","to":"x:2","kind":"member_of","source":"x"}`+"\n"), 0o600)
	os.WriteFile(bad, []byte("{\"type\":\n"), 0o600)
	db := filepath.Join(dir, "g.db")
	logPath := filepath.Join(dir, "audit.log")
	cfg := filepath.Join(dir, "steward.yaml")
	writeCfg := func(goodFile string) {
		os.WriteFile(cfg, []byte("graph: "+db+"\naudit_log: "+logPath+"\nconnectors:\n  - {name: good, type: graph, options: {from: "+goodFile+"}}\n  - {name: broken, type: graph, options: {from: "+bad+"}}\n"), 0o600)
	}
	writeCfg(good)
	run(t, "sync", "--config", cfg)
	if code, _, errs := run(t, "load", "hr", "--from", "../connectors/hr/testdata/roster.csv", "--graph", db); code != 0 {
		t.Fatalf("load hr: %s", errs)
	}

	code, out, errs := run(t, "sources", "--config", cfg, "-o", "json")
	if code != 0 {
		t.Fatalf("sources: %d %s", code, errs)
	}
	var rows []sourceRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	byName := map[string]sourceRow{}
	for _, r := range rows {
		byName[r.Source+"/"+r.Connector] = r
	}
	x := byName["x/good"]
	if x.Nodes != 2 || x.Edges != 1 || x.LoadedAt == nil || x.LastSync == nil || x.LastError != "" {
		t.Fatalf("source x: %+v (all rows %s)", x, out)
	}
	if b := byName["-/broken"]; !strings.Contains(b.LastError, "bad.jsonl:1") {
		t.Fatalf("broken connector's error missing: %s", out)
	}
	if hr := byName["hr/"]; hr.Nodes == 0 || hr.LoadedAt == nil {
		t.Fatalf("loaded (not synced) source missing: %s", out)
	}

	// The good connector now fails: its source keeps its graph and shows
	// the error of the last run.
	writeCfg(filepath.Join(dir, "gone.jsonl"))
	run(t, "sync", "--config", cfg)
	_, table, _ := run(t, "sources", "--config", cfg, "--wide")
	t.Logf("steward sources:\n%s", table)
	var xLine string
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "x ") {
			xLine = l
		}
	}
	if !strings.Contains(table, "SOURCE") || !strings.Contains(xLine, "good") || !strings.Contains(xLine, "gone.jsonl") || !strings.Contains(xLine, " 2 ") {
		t.Fatalf("table:\n%s", table)
	}
}
