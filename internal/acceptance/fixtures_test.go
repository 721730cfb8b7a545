package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixturesInsideRepository keeps the tests of the packages that read
// public samples on fixtures inside the repository: a test that reads an
// absolute path on a development machine, or skips when it is absent,
// passes silently in CI without checking anything.
func TestFixturesInsideRepository(t *testing.T) {
	for _, dir := range []string{".", "../../connectors/aws", "../../connectors/cloudtrail"} {
		files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no test files (%v)", dir, err)
		}
		for _, f := range files {
			if filepath.Base(f) == "fixtures_test.go" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				for _, bad := range []string{`"/work/`, "shared/samples", "samples not available", "not present"} {
					if strings.Contains(line, bad) {
						t.Errorf("%s:%d reads outside the repository or skips without it: %s", f, i+1, strings.TrimSpace(line))
					}
				}
			}
		}
	}
}
