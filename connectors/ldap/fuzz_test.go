package ldap

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/steward-oss/steward/connectors/input"
)

// FuzzLDIF is the LDIF family: any bytes are refused or parsed and built
// into a graph, never a panic.
func FuzzLDIF(f *testing.F) {
	for _, p := range []string{fixture, "testdata/ldapsearch-L.ldif", "testdata/ldifde-export.ldf", "testdata/ldifde-unicode.ldf", "testdata/bad/bad-base64.ldif"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := input.Check("fuzz.ldif", data, input.LDIF)
		if err != nil {
			return
		}
		entries, err := parseLDIF("fuzz.ldif", data)
		if err != nil {
			return
		}
		base, err := inferBaseDN("fuzz.ldif", entries)
		if err != nil {
			return
		}
		_, _ = build(base, entries, log)
	})
}
