package conjur

import (
	"os"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 5 of issue 12: a policy cut short loaded with exit 0 (19 nodes
// became 12). A cut inside a line always leaves the last line without its
// newline, and is refused; so is a cut that leaves a record half written.
func TestTruncatedPolicyRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/root.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cut  string
	}{
		// 19 -> 12 nodes: the file ends inside the payments policy, in the
		// middle of "- !user ops-bot".
		{"inside a name", string(data[:strings.Index(string(data), "ops-bot")+len("ops-")])},
		{"inside a tag", string(data[:strings.Index(string(data), "- !webservice billing")+len("- !web")])},
		{"inside a key", string(data[:strings.Index(string(data), "id: kevin")+len("id: ke")])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := connectortest.WriteTemp(t, "root.yml", tc.cut)
			connectortest.Bad(t, reader(t, path, nil), path, "incomplete")
		})
	}
}
