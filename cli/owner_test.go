package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOwnerSetSemantics: issue 13 item 9. A correction needs a setter
// (--by or $USER, and says so), replaces the inferred or source-named
// owner rather than standing beside it, and an identity or e-mail the
// graph does not know is refused instead of being reported as set.
func TestOwnerSetSemantics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owners.json")
	const ci = "aws:111111111111:user/ci-deployer" // demo: tag owner rosa.nguyen
	const newOwner = "aaron.roberts@example.com"   // demo HR roster

	t.Setenv("USER", "")
	os.Unsetenv("USER")
	code, _, errs := run(t, "owner", "set", "--demo", "--owners", path, ci, newOwner, "--reason", "moved teams")
	if code != ExitUsage || !strings.Contains(errs, "--by") {
		t.Errorf("without $USER or --by: exit %d %q, want a usage error naming --by", code, errs)
	}

	for _, tc := range []struct{ name, id, email, want string }{
		{"unknown identity", "aws:111111111111:user/no-such-bot", newOwner, "no-such-bot"},
		{"unknown person", ci, "nobody.here@example.com", "nobody.here@example.com"},
	} {
		code, _, errs := run(t, "owner", "set", "--demo", "--owners", path, tc.id, tc.email, "--reason", "r", "--by", "tester")
		if code != ExitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d %q, want an error naming %s", tc.name, code, errs, tc.want)
		}
	}
	if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), "nobody.here") {
		t.Errorf("refused correction stored: %s", b)
	}

	code, _, errs = run(t, "owner", "set", "--demo", "--owners", path, "ci-deployer", newOwner, "--reason", "moved teams", "--by", "tester")
	if code != ExitOK {
		t.Fatalf("set: %d %s", code, errs)
	}
	inv := openGraph(t, graphFlags{demo: true, seed: defaultDemoSeed, size: defaultDemoSize, overrides: path})
	ix := inv.Index()
	i, ok := ix.Lookup(ci)
	if !ok {
		t.Fatal("ci-deployer missing")
	}
	owners, _ := ix.Owners(i)
	var got []string
	for _, ei := range owners {
		got = append(got, ix.Edge(ei).From)
	}
	if len(got) != 1 || got[0] != "human:"+newOwner {
		t.Errorf("owners after the correction = %v, want only human:%s", got, newOwner)
	}
}
