package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 12, fail closed: ask over a real graph is audited without
// --audit-log (it used to be audited only with the flag), query writes a
// record as ask does (it wrote none), and a question or plan whose record
// cannot be written is not answered.
func TestQuestionsAuditedByDefault(t *testing.T) {
	t.Setenv("STEWARD_AUDIT_LOG", "")
	t.Setenv("STEWARD_CONFIG", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	if code, _, errs := run(t, "demo", "--size", "300", "--out", db); code != 0 {
		t.Fatalf("demo: %s", errs)
	}
	plan := filepath.Join(dir, "plan.json")
	os.WriteFile(plan, []byte(`{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`), 0o600)
	logPath := filepath.Join(dir, "steward-audit.log")
	before, _ := os.ReadFile(logPath) // demo --out may have recorded its load

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ask", []string{"ask", "--graph", db, "--owners", "", "--format", "json", "admins idle 30 days"}, `"action":"question"`},
		{"query", []string{"query", "--graph", db, "--owners", "", "--format", "json", "--plan", plan}, `"action":"query"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, errs := run(t, tc.args...); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			data, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatalf("no audit log beside the graph: %v", err)
			}
			added := strings.TrimPrefix(string(data), string(before))
			before = data
			if !strings.Contains(added, tc.want) || !strings.Contains(added, `"privilege`) {
				t.Fatalf("record %s missing: %s", tc.want, added)
			}
			// A log that cannot be written (a directory) refuses the answer.
			args := append([]string{tc.args[0], "--audit-log", dir}, tc.args[1:]...)
			code, out, errs := run(t, args...)
			if code == 0 || out != "" || !strings.Contains(errs, "audit") {
				t.Fatalf("unwritable audit log: exit %d, stdout %q, stderr %q", code, out, errs)
			}
		})
	}
	if code, out, errs := run(t, "audit", "verify", "--log", logPath); code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	}
}
