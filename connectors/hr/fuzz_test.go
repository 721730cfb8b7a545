package hr

import (
	"os"
	"testing"

	"github.com/steward-oss/steward/connectors/input"
)

// FuzzRoster is the CSV family: any bytes given as a roster are refused
// or parsed, never a panic.
func FuzzRoster(f *testing.F) {
	for _, p := range []string{"testdata/roster.csv", "testdata/reordered.csv", "testdata/bad-quote.csv", "testdata/short-row.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := input.Check("fuzz.csv", data, input.CSV)
		if err != nil {
			return
		}
		_, _ = Parse("fuzz.csv", data)
	})
}
