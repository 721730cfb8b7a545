package conjur

import (
	"os"
	"testing"

	"github.com/steward-oss/steward/connectors/input"
)

// FuzzPolicy is the YAML family: any bytes given as a Conjur policy are
// refused or parsed, never a panic (YAML anchors and aliases included).
func FuzzPolicy(f *testing.F) {
	for _, p := range []string{"testdata/root.yml", "testdata/branch.yml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := input.Check("fuzz.yml", data, input.YAML)
		if err != nil {
			return
		}
		_, _ = Parse("fuzz.yml", data, "acme", "")
	})
}
