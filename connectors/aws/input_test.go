package aws

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
	dir := connectortest.CopyDir(t, "testdata")
	file := filepath.Join(dir, "authz-details.json")
	off := connectortest.Corrupt(t, file, `"UserName": "`, `"UserName": "`+"\xff")
	connectortest.Bad(t, newFileReader(t, connectors.Options{OptAuthorizationDetails: file}), file, "invalid UTF-8", "offset "+strconv.Itoa(off+len(`"UserName": "`)))
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
