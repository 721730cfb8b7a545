package printable

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "arn:aws:iam::1:user/a", "arn:aws:iam::1:user/a"},
		{"backslash kept", `CORP\svc`, `CORP\svc`},
		{"unicode kept", "café ✓", "café ✓"},
		{"esc", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"osc", "\x1b]0;t\x07", `\x1b]0;t\x07`},
		{"cr lf tab", "a\r\n\tb", `a\r\n\tb`},
		{"nul del", "a\x00\x7fb", `a\x00\x7fb`},
		{"c1", "a\u009bb", `a\u009bb`},
		{"bidi", "a\u202eb\u2066c\u200f", `a\u202eb\u2066c\u200f`},
		{"separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"invalid utf8", "a\xffb", `a\xffb`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"x=1", "x=1"},
		{"'x", "'x"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := CSVCell(tc.in); got != tc.want {
				t.Errorf("CSVCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a\x1b[2J", "\r\n", "\u202e", "\xff", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if needsEscape(out) {
			t.Fatalf("Escape(%q) = %q still has a control character", s, out)
		}
	})
}
