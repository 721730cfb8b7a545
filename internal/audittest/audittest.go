// Package audittest reads an audit log back for tests that check what
// was recorded. It is imported by tests only.
package audittest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/steward-oss/steward/audit"
)

// Records decodes every record of the JSON-lines audit log at path,
// failing t on a line that is not a record.
func Records(t testing.TB, path string) []audit.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "" {
			continue
		}
		var r audit.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s: line %d: %v", path, i+1, err)
		}
		out = append(out, r)
	}
	return out
}
