package hr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

func pathReader(t *testing.T, path string) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "hr", connectors.Options{"from": path}, connectors.Env{})
}

// Finding 6 of issue 12: a 2 GB roster took 88 s and 10.2 GB before it
// failed. The size is checked before reading: the file here is sparse, so
// the test costs nothing, and the old code would read all 2 GB.
func TestHugeRosterRefusedBySize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.csv")
	head, err := os.ReadFile("testdata/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, head, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 2<<30); err != nil {
		t.Fatal(err)
	}
	connectortest.Bad(t, pathReader(t, path), path, "file too large", "2147483648 bytes")
}

// Finding 6: a 100 MB field value was stored; the per-field limit refuses
// it (the file itself is under the file limit).
func TestHugeFieldRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 2)
	row := strings.Replace(strings.SplitN(lines[1], "\n", 2)[0], "@", strings.Repeat("a", 100<<20)+"@", 1)
	path := connectortest.WriteTemp(t, "roster.csv", lines[0]+"\n"+row+"\n")
	connectortest.Bad(t, pathReader(t, path), path, "field too long", ":2 ")
}

// Findings 5 and 6: a roster cut inside its last row (no final newline)
// and one with invalid UTF-8 are refused, naming line and byte.
func TestIncompleteOrInvalidRosterRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"cut inside the last row", string(data[:len(data)-5]), []string{"incomplete", "no newline"}},
		{"invalid UTF-8", strings.Replace(string(data), "@", "\xff@", 1), []string{"invalid UTF-8", "offset "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := connectortest.WriteTemp(t, "roster.csv", tc.data)
			connectortest.Bad(t, pathReader(t, path), append([]string{path}, tc.want...)...)
		})
	}
}
