package secretscan

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	dir := connectortest.CopyDir(t, "testdata")
	file := filepath.Join(dir, "gitleaks-report.json")
	off := connectortest.Corrupt(t, file, `"RuleID": "`, `"RuleID": "`+"\xff")
	connectortest.Bad(t, reader(t, "gitleaks", file, nil), file, "invalid UTF-8", "offset "+strconv.Itoa(off+len(`"RuleID": "`)))
}
