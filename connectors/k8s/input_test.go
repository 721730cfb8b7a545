package k8s

import (
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
	connectortest.BadDirEntries(t, "testdata/cluster", func(t *testing.T, dir string) connectors.Reader {
		return openReader(t, connectors.Options{"from": dir, "cluster": "prod"})
	})
}
