package k8s

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	dir := connectortest.CopyDir(t, "testdata/cluster")
	file := filepath.Join(dir, "serviceaccounts.json")
	off := connectortest.Corrupt(t, file, `"name": "`, `"name": "`+"\xff")
	connectortest.Bad(t, openReader(t, connectors.Options{"from": dir, "cluster": "prod"}), file, "invalid UTF-8", "offset "+strconv.Itoa(off+len(`"name": "`)))
}

// Finding 5 of issue 12: a directory entry that could not be read was
// skipped silently. Each one is now an error naming it.
func TestUnreadableDirEntryNamed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string
	}{
		{"dangling link", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "zz-gone.json")
			if err := os.Symlink(filepath.Join(dir, "nowhere.json"), p); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"directory named like an export", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "zz-more.json")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"unrecognised file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "zz-export.json.bak")
			if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := connectortest.CopyDir(t, "testdata/cluster")
			p := tc.setup(t, dir)
			connectortest.Bad(t, openReader(t, connectors.Options{"from": dir, "cluster": "prod"}), p)
		})
	}
}
