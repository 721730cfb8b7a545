package cli

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/query"
)

// Finding 4 of issue 12: names from source data reached the terminal raw,
// so an ESC sequence cleared the screen and a CR or newline drew a fake row.
func TestTableEscapesControlCharacters(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"clear screen", "svc\x1b[2Jafter"},
		{"osc title", "svc\x1b]0;owned\x07after"},
		{"carriage return", "svc\rroot  admin  yes"},
		{"fake row", "svc\nroot  admin  yes"},
		{"c1 csi", "svc\u009b2Jafter"},
		{"bidi override", "svc\u202eexe.txt"},
		{"line separator", "svc\u2028root"},
		{"tab", "svc\tcol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := &query.Result{Columns: []string{"name", "kind"}, Rows: [][]any{{tc.value, "user"}}}
			var out bytes.Buffer
			if err := writeTable(&out, res, true); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			if n := strings.Count(s, "\n"); n != 3 {
				t.Errorf("table has %d lines, want 3 (header, row, count):\n%q", n, s)
			}
			for _, r := range s {
				if r == '\n' {
					continue
				}
				if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u202e' || r == '\u2028' {
					t.Fatalf("control character %U reached the terminal: %q", r, s)
				}
			}
			if !strings.Contains(s, "svc") || !strings.Contains(s, "user") {
				t.Errorf("data lost: %q", s)
			}
		})
	}
}

// Finding 4: a cell starting with = + - @ TAB or CR is a formula to a
// spreadsheet; CSV output prefixes a single quote (OWASP CSV injection).
func TestCSVNeutralisesFormulas(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"plain", "plain"},
		{"a=b", "a=b"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			res := &query.Result{Columns: []string{"name"}, Rows: [][]any{{tc.in}}}
			var out bytes.Buffer
			o := outputFlags{format: "csv"}
			if err := o.write(&out, "q", time.Unix(0, 0), res); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&out).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[1][0]; got != tc.want {
				t.Errorf("cell = %q, want %q", got, tc.want)
			}
		})
	}
}
