package secretscan

import (
	"path/filepath"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	connectortest.InvalidUTF8(t, connectortest.Fixture{Type: "gitleaks", Dir: "testdata",
		Options: func(dir string) connectors.Options {
			return connectors.Options{"from": filepath.Join(dir, "gitleaks-report.json")}
		}}, "gitleaks-report.json", `"RuleID": "`)
}
