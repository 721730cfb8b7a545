package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/audit"
)

// TestAuditVerifyDetectsTampering drives `steward audit verify` over a log
// written by `steward load` (each load is one record, MACed with the key
// from STEWARD_AUDIT_KEY, checkpointed to audit.log.anchor) and over six
// tamperings of it; each must exit 1 naming the line and seq.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	t.Setenv("STEWARD_AUDIT_KEY", strings.Repeat("5a", 32))
	dir := t.TempDir()
	t.Setenv("STEWARD_AUDIT_LOG", filepath.Join(dir, "audit.log"))
	t.Setenv("STEWARD_AUDIT_ANCHOR", "")
	from := filepath.Join(dir, "g.jsonl")
	os.WriteFile(from, []byte(`{"type":"node","id":"graph:x:sa/a","kind":"service_account","source":"graph:x","name":"a"}`+"\n"), 0o600)
	db, log := filepath.Join(dir, "g.db"), filepath.Join(dir, "audit.log")
	for range 4 {
		if code, _, errs := run(t, "load", "graph", "--from", from, "--graph", db); code != 0 {
			t.Fatalf("load: %s", errs)
		}
	}
	code, out, errs := run(t, "audit", "verify", "--log", log)
	if code != 0 || !strings.Contains(out, "4 records, chain intact, 4 MACs valid, reaches the anchor (seq 4") {
		t.Fatalf("verify intact: %d %q %q", code, out, errs)
	}
	data, _ := os.ReadFile(log)
	if strings.Count(string(data), `"action":"load"`) != 4 {
		t.Fatalf("loads not audited: %s", data)
	}
	lines := strings.SplitAfter(string(data), "\n")[:4]
	all := string(data)
	var last audit.Record
	json.Unmarshal([]byte(lines[3]), &last)
	forged := audit.Record{Seq: 5, Time: last.Time, Actor: "mallory", Action: audit.ActionLoad, Target: "graph", Where: audit.WhereCLI, Outcome: "loaded", PrevHash: last.Hash}
	forged.Hash, _ = forged.ComputeHash()
	fb, _ := json.Marshal(forged)
	tests := []struct{ name, log, want string }{
		{"one changed byte", strings.Replace(all, `"target":"graph"`, `"target":"grapH"`, 1), "line 1 (seq 1): edited"},
		{"deleted middle line", lines[0] + lines[2] + lines[3], "line 2 (seq 3): reordered or deleted (seq gap)"},
		{"deleted last line", strings.Join(lines[:3], ""), "line 4 (seq 4): records missing at the end"},
		{"forged appended record with a correct hash", all + string(fb) + "\n", "line 5 (seq 5): unauthenticated (no MAC)"},
		{"emptied file", "", "line 1 (seq 4): records missing at the end"},
		{"duplicate key", strings.Replace(all, `{"seq":2,`, `{"seq":2,"seq":2,`, 1), `line 2 (seq 2): malformed line: duplicate key "seq"`},
		{"case-changed key", strings.Replace(all, `"outcome":"loaded"`, `"Outcome":"loaded"`, 1), "line 1 (seq 1): malformed line: not in canonical form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "audit.log")
			os.WriteFile(bad, []byte(tt.log), 0o600)
			code, _, errs := run(t, "audit", "verify", "--log", bad, "--anchor", log+".anchor")
			if code != ExitError || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, %q; want 1 and %q", code, errs, tt.want)
			}
		})
	}
}
