package input

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func utf16le(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func TestCheck(t *testing.T) {
	small := Limits{File: 1 << 10, Field: 16}
	tests := []struct {
		name   string
		format Format
		data   string
		want   error // nil: accepted
		where  string
	}{
		{"json ok", JSON, `{"a": "b"}`, nil, ""},
		{"json long string", JSON, `{"a": "` + strings.Repeat("x", 20) + `"}`, ErrFieldTooLong, "offset 6"},
		{"json escaped quote does not end string", JSON, `{"a": "\"` + strings.Repeat("x", 20) + `"}`, ErrFieldTooLong, "offset 6"},
		{"invalid utf8 offset", JSON, "{\"a\":\n \"b\xffc\"}", ErrInvalidUTF8, ":2 (offset 9)"},
		{"utf8 bom stripped", JSON, "\xef\xbb\xbf{}", nil, ""},
		{"utf16 bom", JSON, string(utf16le(`{"name": "café"}`)), nil, ""},
		{"utf16 odd length", JSON, string(utf16le(`{}`)) + "x", ErrTruncated, ""},
		{"jsonl ok", JSONL, "{}\n{}\n", nil, ""},
		{"jsonl last line whole without newline", JSONL, "{}\n{}", nil, ""},
		{"jsonl cut inside last line", JSONL, "{}\n{\"a\":", ErrTruncated, ":2"},
		{"csv ok", CSV, "a,b\n1,2\n", nil, ""},
		{"csv crlf", CSV, "a,b\r\n1,2\r\n", nil, ""},
		{"csv no final newline", CSV, "a,b\n1,2", ErrTruncated, ":2"},
		{"csv unterminated kind", CSVUnterminated, "a,b\n1,2", nil, ""},
		{"csv open quote", CSV, "a,b\n\"1,2\n", ErrTruncated, ""},
		{"csv long cell", CSV, "a,b\n1," + strings.Repeat("y", 20) + "\n", ErrFieldTooLong, "offset 6"},
		{"csv quoted comma keeps cell", CSV, "a\n\"x,y\"\n", nil, ""},
		{"ldif ok", LDIF, "version: 1\n\ndn: cn=a\ncn: a\n\n# numEntries: 1\n", nil, ""},
		{"ldif cut", LDIF, "dn: cn=a\ncn: a\n\ndn: cn=b\n", ErrTruncated, ":4"},
		{"ldif long folded value", LDIF, "dn: cn=a\ndescription: aaaa\n " + strings.Repeat("b", 16) + "\n\n", ErrFieldTooLong, ":2"},
		{"yaml ok", YAML, "- !user a\n", nil, ""},
		{"yaml cut in line", YAML, "- !user a\n- !us", ErrTruncated, ":2"},
		{"yaml long line", YAML, "- " + strings.Repeat("z", 20) + "\n", ErrFieldTooLong, ""},
		{"empty left to connector", JSON, "  \n", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := small.Check("f.x", []byte(tc.data), tc.format)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !utf8.Valid(out) || strings.HasPrefix(string(out), "\ufeff") {
					t.Fatalf("output not clean UTF-8: %q", out)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "f.x"+tc.where) && !strings.Contains(err.Error(), tc.where) {
				t.Errorf("error %q does not locate %q", err, tc.where)
			}
		})
	}
}

func TestReadFileSizeCheckedFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(path, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 3<<30); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	_, err := ReadFile(path, CSV)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "3221225472 bytes") {
		t.Fatalf("err = %v, want too large with its size", err)
	}
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.json")
	write("a.json")
	write("README.md")
	write(".DS_Store")
	if err := os.Mkdir(filepath.Join(dir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := Dir(dir, Ext(".json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "a.json" {
		t.Fatalf("files = %v", files)
	}
	write("c.yaml")
	if _, err := Dir(dir, Ext(".json")); !errors.Is(err, ErrUnrecognised) || !strings.Contains(err.Error(), "c.yaml") {
		t.Fatalf("err = %v, want c.yaml named", err)
	}
	if _, err := Dir(t.TempDir(), Ext(".json")); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty dir: err = %v", err)
	}
}

func TestDropped(t *testing.T) {
	var d Dropped
	if d.Total() != 0 || d.String() != "" {
		t.Fatal("zero value not empty")
	}
	d.Add("malformed ARN", "a.json $.Records[1]")
	d.Add("malformed ARN", "a.json $.Records[4]")
	d.Add("no account", "b.json $")
	if got, want := d.String(), "3 record(s) dropped: 2 malformed ARN (first: a.json $.Records[1]); 1 no account (first: b.json $)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// FuzzCheck: the checks never panic, and what they accept is UTF-8.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("{\"a\": \"b\"}\n"), uint8(JSON))
	f.Add([]byte("a,\"b\"\"c\"\n"), uint8(CSV))
	f.Add([]byte("dn: cn=a\n b\n\n"), uint8(LDIF))
	f.Add(utf16le("- !user a\n"), uint8(YAML))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		out, err := (Limits{File: 1 << 16, Field: 64}).Check("fuzz", data, Format(format%6))
		if err == nil && !utf8.Valid(out) {
			t.Fatalf("accepted invalid UTF-8: %q", out)
		}
	})
}
