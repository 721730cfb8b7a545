package entra

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/steward-oss/steward/connectors/input"
)

// FuzzExportFile is the JSON export family for Entra: any bytes given as
// a Graph page, ARM page or PowerShell array (UTF-16 included) are
// refused or read, never a panic.
func FuzzExportFile(f *testing.F) {
	files, err := filepath.Glob("testdata/graph/*.json")
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/powershell/*.json")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := input.Check("fuzz.json", data, input.JSON)
		if err != nil {
			return
		}
		if data, err = decodeText(data); err != nil {
			return
		}
		in := &inventory{}
		_, _ = in.addDocument("fuzz.json", data)
	})
}
