package entra

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
	dir := connectortest.CopyDir(t, "testdata/graph")
	file := filepath.Join(dir, "servicePrincipals.json")
	off := connectortest.Corrupt(t, file, `"appDisplayName": "`, `"appDisplayName": "`+"\xff")
	connectortest.Bad(t, openReader(t, connectors.Options{"from": dir, "tenant": tenant}, connectors.Env{}), file, "invalid UTF-8", "offset "+strconv.Itoa(off+len(`"appDisplayName": "`)))
}

// Finding 5 of issue 12: a directory entry that could not be read was
// skipped silently. Each one is now an error naming it.
func TestUnreadableDirEntryNamed(t *testing.T) {
	connectortest.BadDirEntries(t, "testdata/graph", func(t *testing.T, dir string) connectors.Reader {
		return openReader(t, connectors.Options{"from": dir, "tenant": tenant}, connectors.Env{})
	})
}
