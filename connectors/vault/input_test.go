package vault

import (
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// fixture is the export the bad-input runners break copies of.
var fixture = connectortest.Fixture{Type: "vault", Dir: "testdata/cluster",
	Options: func(dir string) connectors.Options {
		return connectors.Options{"url": "https://" + scope + ":8200", "from": dir}
	}}

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	connectortest.InvalidUTF8(t, fixture, "auth/aws/role/ci-runner.json", `"`)
}
