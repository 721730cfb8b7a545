package k8s

import (
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// fixture is the export the bad-input runners break copies of.
var fixture = connectortest.Fixture{Type: "k8s", Dir: "testdata/cluster", Env: quiet,
	Options: func(dir string) connectors.Options { return connectors.Options{"from": dir, "cluster": "prod"} }}

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	connectortest.InvalidUTF8(t, fixture, "serviceaccounts.json", `"name": "`)
}

// Finding 5 of issue 12: a directory entry that could not be read was
// skipped silently. Each one is now an error naming it.
func TestUnreadableDirEntryNamed(t *testing.T) {
	connectortest.DirEntries(t, fixture)
}
