package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAskNoGraph: without a stored graph ask says so (exit 2) and creates
// no empty store; STEWARD_GRAPH names the store it reads.
func TestAskNoGraph(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("STEWARD_GRAPH", "")
	t.Setenv("STEWARD_CONFIG", "")
	code, out, errs := run(t, "ask", "--owners", "", "admins")
	if code != ExitUsage || out != "" || errs != "no graph at ./steward.db: load a source first (steward load …) or use --demo\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "steward.db")); !os.IsNotExist(err) {
		t.Fatalf("ask created the store: %v", err)
	}
	code, _, errs = run(t, "query", "--owners", "", "--plan", "-")
	if code != ExitUsage || !strings.HasPrefix(errs, "no graph at ./steward.db:") {
		t.Fatalf("query: exit %d, stderr %q", code, errs)
	}

	db := filepath.Join(dir, "stored.db")
	if code, _, errs := run(t, "demo", "--size", "200", "--out", db); code != 0 {
		t.Fatal(errs)
	}
	t.Setenv("STEWARD_GRAPH", db)
	code, out, errs = run(t, "ask", "--owners", "", "--format", "json", "admins")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var a Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Total == 0 {
		t.Fatalf("STEWARD_GRAPH not read: %v %+v", err, a)
	}
	t.Setenv("STEWARD_GRAPH", filepath.Join(dir, "missing.db"))
	if code, _, errs := run(t, "ask", "--owners", "", "admins"); code != ExitUsage || !strings.HasPrefix(errs, "no graph at "+filepath.Join(dir, "missing.db")+": ") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// TestAskInterpretationAndLimits: every answer says how the question was
// read, above the table and in JSON; --limit and --all set the rows.
func TestAskInterpretationAndLimits(t *testing.T) {
	q := "service accounts with no owner"
	code, out, errs := run(t, "ask", "--demo", "--owners", "", q)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if lines[0] != "Interpretation: service accounts, workloads, OAuth apps; no owner; up to 200 rows" {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(out, "(200 of 595 rows; --limit N or --all shows more)") {
		t.Errorf("no capped-rows note:\n%s", out[len(out)-200:])
	}

	for _, tt := range []struct {
		args       []string
		rows       int
		interprets string
	}{
		{[]string{"--limit", "7"}, 7, "first 7 rows"},
		{[]string{"--all"}, 595, "all rows (at most 10000)"},
		{nil, 200, "up to 200 rows"},
	} {
		args := append(append([]string{"ask", "--demo", "--owners", "", "--format", "json"}, tt.args...), q)
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errs)
		}
		var a Answer
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		if len(a.Rows) != tt.rows || a.Total != 595 || !strings.Contains(a.Interpretation, tt.interprets) {
			t.Errorf("%v: %d rows of %d, interpretation %q", tt.args, len(a.Rows), a.Total, a.Interpretation)
		}
	}

	// CSV stays data; the cap is said on stderr.
	code, out, errs = run(t, "ask", "--demo", "--owners", "", "--format", "csv", q)
	if code != 0 || strings.Count(out, "\n") != 201 || errs != "steward: 200 of 595 rows written; --limit N or --all writes more\n" {
		t.Fatalf("exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errs)
	}
	if code, _, errs := run(t, "ask", "--demo", "--owners", "", "--format", "csv", "--all", q); code != 0 || errs != "" {
		t.Fatalf("--all: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := run(t, "ask", "--demo", "--limit", "5", "--all", q); code != ExitUsage {
		t.Fatalf("--limit with --all: exit %d", code)
	}

	// A typo is read as the word it is closest to, and said so.
	code, out, errs = run(t, "ask", "--demo", "--owners", "", "--format", "json", "admnis idle 30 days")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var a Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Corrections) != 1 || a.Corrections[0] != "admnis → admins" || !strings.Contains(a.Interpretation, "admin privilege") {
		t.Fatalf("corrections %q, interpretation %q", a.Corrections, a.Interpretation)
	}
}

// TestAskRefusesUnknownWords: the refusal says what was understood and
// which words could not be used, and prints no rows.
func TestAskRefusesUnknownWords(t *testing.T) {
	code, out, errs := run(t, "ask", "--demo", "--owners", "", "admins idle 30 days in the eu-west-1 region")
	if code != ExitError || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"I understood: ", "admin privilege", "idle ≥ 30 days", `"eu-west-1 region"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("refusal lacks %q: %s", want, errs)
		}
	}
}
