package input

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinesAgreesWithCheck: reading a JSON-lines file a line at a time
// refuses exactly what checking it whole refuses, with the same line and
// byte offset, and otherwise yields its lines.
func TestLinesAgreesWithCheck(t *testing.T) {
	small := Limits{File: 64, Field: 16}
	tests := []struct {
		name  string
		data  string
		want  error
		lines []string
	}{
		{"ok", "{}\n{\"a\":1}\n", nil, []string{"{}", `{"a":1}`}},
		{"last line whole without newline", "{}\n{}", nil, []string{"{}", "{}"}},
		{"blank lines kept", "{}\n\n{}\n", nil, []string{"{}", "", "{}"}},
		{"utf8 bom stripped", "\xef\xbb\xbf{}\n", nil, []string{"{}"}},
		{"utf16", string(utf16le("{}\n{\"n\":\"é\"}\n")), nil, []string{"{}", `{"n":"é"}`}},
		{"cut inside last line", "{}\n{\"a\":", ErrTruncated, nil},
		{"invalid utf8", "{}\n{\"a\":\"b\xffc\"}\n", ErrInvalidUTF8, nil},
		{"long string", "{}\n{\"a\":\"" + strings.Repeat("x", 20) + "\"}\n", ErrFieldTooLong, nil},
		{"over the file limit", strings.Repeat("{}\n", 30), ErrTooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.jsonl")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, whole := small.Check(path, []byte(tc.data), JSONL)
			var got []string
			ls, err := small.OpenLines(path)
			if err == nil {
				for ls.Next() {
					got = append(got, string(ls.Bytes()))
				}
				err = ls.Err()
				ls.Close()
			}
			if tc.want == nil {
				if err != nil || whole != nil {
					t.Fatalf("refused: lines %v, whole %v", err, whole)
				}
				if strings.Join(got, "|") != strings.Join(tc.lines, "|") {
					t.Fatalf("lines %q, want %q", got, tc.lines)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(whole, tc.want) {
				t.Fatalf("lines %v, whole %v, want %v", err, whole, tc.want)
			}
			var le, we *Error
			errors.As(err, &le)
			errors.As(whole, &we)
			if tc.want != ErrTooLarge && (le.Line != we.Line || le.Offset != we.Offset) {
				t.Errorf("lines refuse at %d (offset %d), whole file at %d (offset %d)", le.Line, le.Offset, we.Line, we.Offset)
			}
		})
	}
}
