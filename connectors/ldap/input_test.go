package ldap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

// Finding 5 of issue 12: an LDIF export cut at a line boundary loaded with
// exit 0 (15 nodes became 6). Every exporter ends each entry with a blank
// line, so a file whose last entry has none is cut short.
func TestTruncatedLDIFRefused(t *testing.T) {
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	cuts := 0
	for k := 1; k < len(lines); k++ {
		last := strings.TrimSpace(lines[k-1])
		if last == "" || strings.HasPrefix(last, "#") {
			continue // cut at an entry boundary: the bytes cannot tell
		}
		cuts++
		path := connectortest.WriteTemp(t, "cut.ldif", strings.Join(lines[:k], ""))
		t.Run("cut after line "+lineNo(k), func(t *testing.T) {
			connectortest.Bad(t, newReader(t, connectors.Options{"from": path}), path, "incomplete")
		})
	}
	if cuts < 20 {
		t.Fatalf("only %d cuts tried", cuts)
	}
}

func lineNo(k int) string { return itoa(k) }

func itoa(k int) string {
	if k < 10 {
		return string(rune('0' + k))
	}
	return itoa(k/10) + string(rune('0'+k%10))
}

// Finding 6: a 100 MB attribute value was stored; it is refused with the
// field limit.
func TestLongValueRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.ldif")
	big := "dn: CN=svc,DC=example,DC=com\nobjectClass: user\nsAMAccountName: svc\ndescription: " +
		strings.Repeat("x", 2<<20) + "\n\n"
	if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	connectortest.Bad(t, newReader(t, connectors.Options{"from": path}), path, "field too long")
}
