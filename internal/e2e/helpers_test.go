package e2e

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/internal/audittest"
)

// records decodes the audit log at path.
func records(t *testing.T, path string) []audit.Record { return audittest.Records(t, path) }

func countRecords(t *testing.T, path string) int { return len(records(t, path)) }

// mustBody returns r's body and puts it back for sending.
func mustBody(t *testing.T, r *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}
