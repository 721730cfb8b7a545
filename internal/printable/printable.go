// Package printable makes text from source data safe to show: on a
// terminal, in a Slack message and in a CSV file opened by a spreadsheet.
// Names, descriptions and ids come from exports an attacker may control;
// an ESC sequence would repaint the terminal, a CR or newline would draw a
// row that is not in the result, a bidi override would reverse what the
// reader sees, and a cell starting with "=" runs as a formula.
package printable

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every control character written as a visible Go
// escape (\n, \r, \t, \x1b, \u202e): C0 controls, DEL, C1 controls, the
// Unicode line and paragraph separators, and the bidirectional formatting
// characters. Invalid UTF-8 bytes become \xNN. Backslashes are kept as they
// are, because Windows and AD names (DOMAIN\user) contain them.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < 0x20 || r == 0x7f || unsafe(r) || (r == utf8.RuneError && n == 1) {
			return true
		}
		i += n
	}
	return false
}

// unsafe reports the non-ASCII runes that change how surrounding text is
// laid out: C1 controls (U+009B is a one-byte CSI on some terminals), line
// and paragraph separators, and bidi marks, embeddings, overrides and
// isolates (the "Trojan Source" characters).
func unsafe(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// CSVCell returns s ready for a CSV cell: a value a spreadsheet would read
// as a formula (first character = + - @ TAB or CR) gets a leading single
// quote, as the OWASP CSV injection guidance recommends. Only text cells
// need this; callers write numbers as they are, so -1 stays a number.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
