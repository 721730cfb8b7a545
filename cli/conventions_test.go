package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errs := run(t, args...)
			if code != 0 || !strings.Contains(out, "go1") || errs != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
		})
	}
	t.Run("ldflags version and json", func(t *testing.T) {
		old := Version
		Version = "v9.8.7-test"
		defer func() { Version = old }()
		code, out, _ := run(t, "--version")
		if code != 0 || !strings.HasPrefix(out, "steward v9.8.7-test") {
			t.Fatalf("--version: %q", out)
		}
		code, out, _ = run(t, "version", "-o", "json")
		var bi buildInfo
		if err := json.Unmarshal([]byte(out), &bi); code != 0 || err != nil || bi.Version != "v9.8.7-test" || bi.GoVersion == "" || bi.Platform == "" {
			t.Fatalf("version -o json: %d %q %v", code, out, err)
		}
	})
}

// Every command and subcommand answers -h and help CMD with its own usage
// and exit 0.
func TestHelpEveryCommand(t *testing.T) {
	_, top, _ := run(t, "help")
	lines := commandLines()
	for _, n := range commandNames() {
		if _, ok := groups[n]; ok {
			lines = append(lines, []string{n})
		}
	}
	for _, cl := range lines {
		name := strings.Join(cl, " ")
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{append(append([]string{}, cl...), "-h"), append(append([]string{}, cl...), "--help"), append([]string{"help"}, cl...)} {
				code, out, errs := run(t, args...)
				if code != 0 {
					t.Fatalf("%q: exit %d: %s", args, code, errs)
				}
				help := out + errs
				if strings.TrimSpace(help) == "" || help == top {
					t.Fatalf("%q printed no help of its own: %q", args, help)
				}
				if strings.Contains(help, "unknown subcommand") || strings.Contains(help, "unknown command") {
					t.Fatalf("%q: %s", args, help)
				}
			}
		})
	}
	if code, _, errs := run(t, "help", "nosuch"); code != ExitUsage || !strings.Contains(errs, "unknown command") {
		t.Fatalf("help nosuch: %d %s", code, errs)
	}
}

// The bash script parses (bash -n) and, sourced, completes commands,
// subcommands and flags.
func TestCompletionBash(t *testing.T) {
	code, script, errs := run(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("completion bash: %d %s", code, errs)
	}
	file := filepath.Join(t.TempDir(), "steward.bash")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", file).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"steward", "as"}, "ask"},
		{[]string{"steward", "ask", "--de"}, "--demo"},
		{[]string{"steward", "ask", "--no-h"}, "--no-headers"},
		{[]string{"steward", "owner", "se"}, "set"},
		{[]string{"steward", "owner", "set", "--rea"}, "--reason"},
		{[]string{"steward", "load", "aw"}, "aws"},
		{[]string{"steward", "load", "aws", "--authorization"}, "--authorization-details"},
		{[]string{"steward", "export", "--con"}, "--config"},
		{[]string{"steward", "help", "exp"}, "export"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.words, " "), func(t *testing.T) {
			quoted := make([]string, len(tt.words))
			for i, w := range tt.words {
				quoted[i] = "'" + w + "'"
			}
			sh := "source " + file + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
				itoa(len(tt.words)-1) + "\n_steward\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			out, err := exec.Command("bash", "-c", sh).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if !strings.Contains("\n"+string(out), "\n"+tt.want+"\n") {
				t.Fatalf("completions %q, want %q", out, tt.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// zsh reuses the bash function; fish gets its own complete lines. Both
// name every command.
func TestCompletionZshFish(t *testing.T) {
	for _, sh := range []string{"zsh", "fish"} {
		code, out, errs := run(t, "completion", sh)
		if code != 0 {
			t.Fatalf("%s: %d %s", sh, code, errs)
		}
		for _, n := range commandNames() {
			if !strings.Contains(out, " "+n) {
				t.Errorf("%s script does not complete %s", sh, n)
			}
		}
		// The script must parse in its own shell (zsh -n, fish --no-execute).
		// .ci/install-servers.sh installs both; under CI a missing shell fails.
		if _, err := exec.LookPath(sh); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (.ci/install-servers.sh installs it)", sh)
			}
			t.Logf("%s not installed: parse check not run", sh)
		} else {
			file := filepath.Join(t.TempDir(), "steward."+sh)
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			flag := "-n"
			if sh == "fish" {
				flag = "--no-execute"
			}
			if msg, err := exec.Command(sh, flag, file).CombinedOutput(); err != nil {
				t.Fatalf("%s %s: %v\n%s", sh, flag, err, msg)
			}
		}
		if sh == "fish" && !strings.Contains(out, "__fish_seen_subcommand_from ask' -l demo") {
			t.Errorf("fish script has no ask --demo flag:\n%s", out[:min(len(out), 800)])
		}
	}
	if code, _, _ := run(t, "completion", "tcsh"); code != ExitUsage {
		t.Fatalf("unknown shell: exit %d", code)
	}
}

func TestOutputFlags(t *testing.T) {
	q := "admins idle 30 days"
	_, byFormat, _ := run(t, "ask", "--demo", "--size", "300", "--owners", "", "--format", "csv", q)
	for _, args := range [][]string{{"-o", "csv"}, {"--output", "csv"}, {"--output=csv"}} {
		_, out, errs := run(t, append(append([]string{"ask", "--demo", "--size", "300", "--owners", ""}, args...), q)...)
		if out != byFormat || out == "" {
			t.Fatalf("%v differs from --format csv: %s", args, errs)
		}
	}
	_, noHead, _ := run(t, "ask", "--demo", "--size", "300", "--owners", "", "-o", "csv", "--no-headers", q)
	if first, _, _ := strings.Cut(byFormat, "\n"); noHead != strings.TrimPrefix(byFormat, first+"\n") {
		t.Fatalf("--no-headers csv kept the header")
	}
	_, tbl, _ := run(t, "ask", "--demo", "--size", "300", "--owners", "", "--no-headers", q)
	if strings.Contains(tbl, "IDLE_DAYS") || strings.Contains(tbl, "rows)") || !strings.Contains(tbl, "admin") {
		t.Fatalf("--no-headers table: %q", tbl)
	}
	code, y, errs := run(t, "ask", "--demo", "--size", "300", "--owners", "", "-o", "yaml", q)
	var a Answer
	if err := yaml.Unmarshal([]byte(y), &a); code != 0 || err != nil || a.Question != q || len(a.Rows) == 0 || len(a.Evidence) != len(a.Rows) {
		t.Fatalf("-o yaml: %d %v %s", code, err, errs)
	}
}

// A table fits COLUMNS, leaving out the columns that cannot fit and saying
// so; --wide prints every cell whole.
func TestTableFitsWidth(t *testing.T) {
	q := "admins idle 30 days"
	for _, width := range []int{60, 100, 140} {
		t.Run(itoa(width), func(t *testing.T) {
			t.Setenv("COLUMNS", itoa(width))
			_, out, _ := run(t, "ask", "--demo", "--size", "300", "--owners", "", q)
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if utf8.RuneCountInString(l) > width {
					t.Fatalf("line of %d runes in a %d-column terminal: %q", utf8.RuneCountInString(l), width, l)
				}
			}
			if !strings.Contains(out, "\nID ") || !strings.Contains(out, "columns hidden") {
				t.Fatalf("no header or no note of hidden columns:\n%s", out)
			}
			_, wide, _ := run(t, "ask", "--demo", "--size", "300", "--owners", "", "--wide", q)
			if !strings.Contains(wide, "CREATED_AT") || strings.Contains(wide, "…") {
				t.Fatalf("--wide shortened cells or left columns out")
			}
		})
	}
}

// On a terminal the header is bold and the table fits the terminal's own
// width; NO_COLOR (any non-empty value) turns colour off; piped output
// never has colour.
func TestColourOnlyOnTerminal(t *testing.T) {
	q := "admins idle 30 days"
	tests := []struct {
		name     string
		noColor  string
		wantBold bool
	}{
		{"terminal", "", true},
		{"terminal NO_COLOR", "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("COLUMNS", "")
			t.Setenv("TERM", "xterm")
			t.Setenv("NO_COLOR", tt.noColor)
			tty, output := openPTY(t, 80)
			var errb bytes.Buffer
			code := Run(context.Background(), []string{"ask", "--demo", "--size", "300", "--owners", "", q}, tty, &errb)
			out := output()
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if got := strings.Contains(out, "\x1b[1m"); got != tt.wantBold {
				t.Fatalf("bold header %v, want %v:\n%q", got, tt.wantBold, out[:min(len(out), 200)])
			}
			if !tt.wantBold && strings.Contains(out, "\x1b") {
				t.Fatalf("escape sequence with NO_COLOR set: %q", out[:min(len(out), 200)])
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				plain := strings.NewReplacer("\x1b[1m", "", "\x1b[0m", "").Replace(l)
				if utf8.RuneCountInString(plain) > 80 {
					t.Fatalf("line wider than the 80-column terminal: %q", plain)
				}
			}
		})
	}
	t.Run("pipe", func(t *testing.T) {
		t.Setenv("NO_COLOR", "")
		_, out, _ := run(t, "ask", "--demo", "--size", "300", "--owners", "", q)
		if strings.Contains(out, "\x1b") {
			t.Fatal("escape sequence in piped output")
		}
	})
}
