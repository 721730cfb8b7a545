package okta

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	dir := connectortest.CopyDir(t, "testdata/org")
	file := filepath.Join(dir, "users.json")
	off := connectortest.Corrupt(t, file, `"id": "`, `"id": "`+"\xff")
	connectortest.Bad(t, fileReader(t, dir), file, "invalid UTF-8", "offset "+strconv.Itoa(off+len(`"id": "`)))
}
