// Package deptest holds repository-wide rules written as tests: every
// package has a package comment, and the import rules that keep the
// agent from acting hold.
package deptest

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestPackageDocs: every package has one package comment.
func TestPackageDocs(t *testing.T) {
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		// Package clauses of the directory's non-test files, by package
		// name (a directory may hold a main and its doc-less helpers).
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		documented := map[string]bool{}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(path, e.Name()), nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				return err
			}
			documented[f.Name.Name] = documented[f.Name.Name] || (f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "")
		}
		for name, ok := range documented {
			if !ok {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("package %s (%s) has no package comment", name, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestImportRules: the agent and its tools can only read and propose, so
// they must not be able to reach actuators, the approval executor or
// Slack, even indirectly.
func TestImportRules(t *testing.T) {
	const mod = "github.com/steward-oss/steward/"
	forbidden := []string{mod + "actuate", mod + "approval", mod + "slackbot", "github.com/slack-go/slack"}
	for _, pkg := range []string{"./agent", "./tools", "./planner", "./query"} {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
		cmd.Dir = repoRoot(t)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// TestLayering: the conversation path runs server -> chat -> agent and
// never back, so the answer types live in chat and the HTTP API is a
// client of the conversation service, not the other way round.
func TestLayering(t *testing.T) {
	const mod = "github.com/steward-oss/steward/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"./chat", []string{mod + "server"}},
		{"./agent", []string{mod + "chat", mod + "server"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", tt.pkg)
			cmd.Dir = repoRoot(t)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list %s: %v", tt.pkg, err)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range tt.forbidden {
					if dep == f {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
			}
		})
	}
}
