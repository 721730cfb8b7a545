package slackbot

import (
	"strings"
	"testing"
)

// Finding 4 of issue 12: Slack tables printed names raw, so a newline drew
// a fake row and ESC/OSC sequences went into the message (and into the
// terminal of anyone who copies it).
func TestTableEscapesControlCharacters(t *testing.T) {
	tests := []struct{ name, value string }{
		{"clear screen", "svc\x1b[2Jafter"},
		{"osc title", "svc\x1b]0;owned\x07after"},
		{"carriage return", "svc\rroot  admin"},
		{"fake row", "svc\nroot  admin"},
		{"c1 csi", "svc\u009b2J"},
		{"bidi override", "svc\u202eexe.txt"},
		{"line separator", "svc\u2028root"},
		{"mention", "svc <!channel> <https://evil.example|click>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := table([]string{"name", "kind"}, [][]any{{tc.value, "user"}})
			if s == "" {
				t.Fatal("no table")
			}
			// ``` + header + one row + ```
			if n := strings.Count(s, "\n"); n != 3 {
				t.Errorf("table has %d newlines, want 3 (one data row):\n%q", n, s)
			}
			for _, r := range s {
				if r == '\n' {
					continue
				}
				if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u202e' || r == '\u2028' {
					t.Fatalf("control character %U reached Slack: %q", r, s)
				}
			}
			if strings.ContainsAny(s, "<>") {
				t.Errorf("Slack control characters < > not escaped: %q", s)
			}
		})
	}
}

func TestCSVUploadNeutralisesFormulas(t *testing.T) {
	got := string(csvOf([]string{"name", "n"}, [][]any{{"=cmd|' /C calc'!A0", float64(-1)}}))
	want := "name,n\n'=cmd|' /C calc'!A0,-1\n"
	if got != want {
		t.Errorf("csv = %q, want %q", got, want)
	}
}
