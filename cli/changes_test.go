package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyncThenChanges: two `steward sync` runs over a graph export that
// changed in between record exactly that difference, which `steward
// changes` prints.
func TestSyncThenChanges(t *testing.T) {
	cfg, syncFrom := syncSetup(t)
	for _, f := range []string{"sync1.jsonl", "sync2.jsonl"} {
		syncFrom(f)
	}
	code, out, errs := run(t, "changes", "--config", cfg, "--since", "1h", "-o", "json")
	if code != ExitOK {
		t.Fatalf("changes: exit %d %s", code, errs)
	}
	var got struct {
		Changes []struct{ Type, Name, Detail string }
		Total   int
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, c := range got.Changes {
		types = append(types, c.Type+":"+c.Name)
	}
	want := "new_credential:admin-user new_long_lived_admin_key:admin-user grant_added:app-svc grant_added:app-svc grant_added:app-svc " +
		"new_escalation_path:app-svc owner_departed:app-svc grant_added:ci-runner new_admin:ci-runner identity_added:deploy-new identity_removed:old-bot"
	if strings.Join(types, " ") != want {
		t.Fatalf("changes:\n %s\nwant\n %s", strings.Join(types, " "), want)
	}
	if code, _, errs := run(t, "changes", "--config", cfg, "--since", "yesterday"); code != ExitUsage || !strings.Contains(errs, "--since") {
		t.Fatalf("bad --since: %d %s", code, errs)
	}
}

// syncSetup writes a config whose graph connector reads an export file and
// whose change history has its own directory. It returns the config's path
// and a function that copies one findings/changes test sync (sync1.jsonl,
// sync2.jsonl) into the export and runs `steward sync`.
func syncSetup(t *testing.T) (cfg string, syncFrom func(f string)) {
	t.Helper()
	dir := t.TempDir()
	export := filepath.Join(dir, "export.jsonl")
	cfg = filepath.Join(dir, "steward.yaml")
	yaml := "graph: " + filepath.Join(dir, "graph.db") + "\naudit_log: " + filepath.Join(dir, "audit.log") +
		"\nconnectors:\n  - type: graph\n    options: {from: " + export + "}\nchanges:\n  dir: " + filepath.Join(dir, "changes") + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, func(f string) {
		t.Helper()
		b, err := os.ReadFile("../findings/changes/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(export, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := run(t, "sync", "--config", cfg); code != ExitOK {
			t.Fatalf("sync %s: exit %d %s", f, code, errs)
		}
	}
}
