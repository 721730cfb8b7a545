package aws

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	connectortest.InvalidUTF8(t, connectortest.Fixture{Type: "aws", Dir: "testdata", Env: quietEnv,
		Options: func(dir string) connectors.Options {
			return connectors.Options{OptAuthorizationDetails: filepath.Join(dir, "authz-details.json")}
		}}, "authz-details.json", `"UserName": "`)
}

// Finding 5: an AWS file of the wrong shape (here `aws iam list-users`
// output given as authorization details) loaded nothing and exited 0.
func TestWrongShapeRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	data := `{"Users": [{"Path": "/", "UserName": "deploy", "UserId": "AIDAEXAMPLE0000000001", "Arn": "arn:aws:iam::111122223333:user/deploy", "CreateDate": "2024-01-01T00:00:00Z"}]}` + "\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	connectortest.Bad(t, newFileReader(t, connectors.Options{OptAuthorizationDetails: path}), path, "yields nothing")
}
