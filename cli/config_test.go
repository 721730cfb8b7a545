package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/internal/demo"
)

// One configuration story: every command takes --config; the graph and
// audit log come from the flag, else STEWARD_*, else the file, else the
// defaults.
func TestConfigHonouredByEveryCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "from-config.db")
	if code, _, errs := run(t, "demo", "--size", "300", "--out", db); code != 0 {
		t.Fatal(errs)
	}
	logPath := filepath.Join(dir, "from-config-audit.log")
	run(t, "ask", "--demo", "--size", "300", "--owners", "", "--audit-log", logPath, "admins idle 30 days")
	jsonl := filepath.Join(dir, "one.jsonl")
	os.WriteFile(jsonl, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"one","props":{"status":"active"}}`+"\n"), 0o600)
	cfg := filepath.Join(dir, "steward.yaml")
	os.WriteFile(cfg, []byte("graph: "+db+"\naudit_log: "+logPath+"\nconnectors:\n  - {name: one, type: graph, options: {from: "+jsonl+"}}\n"), 0o600)
	// Run from an empty directory, so a command falling back to
	// ./steward.db finds nothing.
	t.Chdir(t.TempDir())

	_, want, _ := run(t, "export", "--graph", db, "--owners", "")
	if !strings.Contains(want, `"type":"node"`) {
		t.Fatal("export of the demo store is empty")
	}
	now := demo.Reference.Format(time.RFC3339)
	tests := []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"export", "--owners", ""}, want},
		{[]string{"ask", "--owners", "", "--now", now, "-o", "csv", "what can ci-deployer access"}, "ecs:UpdateService"},
		{[]string{"unused", "--owners", "", "--now", now, "ci-deployer"}, "granted"},
		{[]string{"anomalies", "--owners", "", "--window", "0", "--min-baseline", "0", "--per-subject"}, "new_source_ip"},
		{[]string{"audit", "verify"}, "from-config-audit.log: 4 records, chain intact"}, // ask's record + the three asks above
		{[]string{"sources"}, "aws:111111111111"},
		{[]string{"config", "validate"}, "ok"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for _, where := range []string{"--config first", "--config last", "STEWARD_CONFIG"} {
				args := append([]string(nil), tt.args...)
				switch where {
				case "--config first":
					args = append([]string{"--config", cfg}, args...)
				case "--config last":
					args = append(args, "--config="+cfg)
				case "STEWARD_CONFIG":
					t.Setenv("STEWARD_CONFIG", cfg)
				}
				code, out, errs := run(t, args...)
				t.Setenv("STEWARD_CONFIG", "")
				if code != 0 || !strings.Contains(out, tt.want) {
					t.Fatalf("%s: exit %d, stderr %q, stdout %.300q", where, code, errs, out)
				}
			}
		})
	}

	t.Run("sync", func(t *testing.T) {
		code, out, errs := run(t, "sync", "--config", cfg)
		if code != 0 || !strings.Contains(out, "one") {
			t.Fatalf("sync: %d %s %s", code, out, errs)
		}
		if _, exp, _ := run(t, "export", "--config", cfg, "--owners", ""); !strings.Contains(exp, `"id":"x:1"`) {
			t.Fatal("sync did not write to the config's graph")
		}
	})

	t.Run("precedence", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "env.db")
		if code, _, errs := run(t, "load", "graph", "--from", jsonl, "--graph", other); code != 0 {
			t.Fatal(errs)
		}
		// STEWARD_GRAPH wins over the file; --graph wins over both.
		t.Setenv("STEWARD_GRAPH", other)
		_, fromEnv, _ := run(t, "export", "--config", cfg, "--owners", "")
		if strings.Count(fromEnv, "\n") != 1 {
			t.Fatalf("STEWARD_GRAPH not honoured over the file: %d lines", strings.Count(fromEnv, "\n"))
		}
		_, fromFlag, _ := run(t, "export", "--config", cfg, "--graph", db, "--owners", "")
		if strings.Count(fromFlag, "\n") <= 1 {
			t.Fatal("--graph not honoured over STEWARD_GRAPH")
		}
	})

	t.Run("every command takes --config", func(t *testing.T) {
		for _, cl := range commandLines() {
			args := append(append([]string{"--config", cfg}, cl...), "-h")
			if code, _, errs := run(t, args...); code != 0 {
				t.Errorf("%q: exit %d: %s", args, code, errs)
			}
		}
	})

	t.Run("bad config is a usage error naming the file", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte("graph: x\nnosuchkey: 1\n"), 0o600)
		for _, args := range [][]string{{"export"}, {"audit", "verify"}, {"config", "validate"}} {
			code, _, errs := run(t, append([]string{"--config", bad}, args...)...)
			if code == 0 || !strings.Contains(errs, "bad.yaml") || !strings.Contains(errs, "nosuchkey") {
				t.Errorf("%v: exit %d, %q", args, code, errs)
			}
		}
	})
}
