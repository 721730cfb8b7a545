package cloudtrail

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 6 of issue 12: invalid UTF-8 in a JSON export was silently
// replaced by U+FFFD. It must be refused with the file and byte offset.
func TestInvalidUTF8Refused(t *testing.T) {
	connectortest.InvalidUTF8(t, fixture, "lookup-events.json", `"EventName": "`)
}

// fixture is the export the bad-input runners break copies of.
var fixture = connectortest.Fixture{Type: "cloudtrail", Dir: "testdata/fixtures", Env: quietEnv,
	Options: func(dir string) connectors.Options { return connectors.Options{OptFrom: dir} }}

// Finding 5 of issue 12: a directory entry that could not be read was
// skipped silently. Each one is now an error naming it.
func TestUnreadableDirEntryNamed(t *testing.T) {
	connectortest.DirEntries(t, fixture)
}

// Finding 5: events whose caller ARN is malformed were dropped without a
// word. They are counted and reported in the read's warning.
func TestMalformedARNCountedAndReported(t *testing.T) {
	dir := connectortest.CopyDir(t, "testdata/fixtures")
	ev := func(arn string) string {
		return `{"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "` + arn +
			`", "accountId": "111122223333", "userName": "x"}, "eventTime": "2026-11-10T02:00:00Z", "eventSource": "s3.amazonaws.com",` +
			` "eventName": "ListBuckets", "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2",` +
			` "eventID": "e-` + arn[len(arn)-3:] + `", "eventType": "AwsApiCall", "recipientAccountId": "111122223333"}`
	}
	data := `{"Records": [` + ev("arn:aws:iam::111122223333:user/etl") + `, ` + ev("arn:aws:iam::111122223333") + `, ` + ev("not-an-arn-xyz") + "]}\n"
	if err := os.WriteFile(filepath.Join(dir, "zz-malformed.json"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r, err := connectors.New("cloudtrail", connectors.Options{OptFrom: dir}, connectors.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=WARN", "dropped=2", "malformed ARN", "zz-malformed.json"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
}
