package ldap

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// entry is one directory object, from a live search or an LDIF export;
// both paths build the graph from the same type. Attribute names are
// lower-case (LDAP names are case-insensitive) and values raw bytes held
// in strings, because objectSid is binary.
type entry struct {
	DN    string
	Attrs map[string][]string
	// Where is "file.ldif:12" for an LDIF record, empty for a live entry.
	Where string
}

func (e *entry) values(name string) []string { return e.Attrs[strings.ToLower(name)] }

func (e *entry) first(name string) string {
	if v := e.values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseLDIF parses an LDIF content export (RFC 2849) as written by
// ldapsearch -L/-LLL, ldifde -f or slapcat: version line, comments, folded
// lines, base64 values ("::"). Change records other than add, URL values
// (":<") and controls are rejected, since an export never has them and
// guessing would load something other than what the file says. The
// "search:/result:" trailer ldapsearch -L prints is skipped.
func parseLDIF(name string, data []byte) ([]*entry, error) {
	type line struct {
		no   int
		text string
	}
	var lines []line
	data, err := decodeLDIFBytes(name, data)
	if err != nil {
		return nil, err
	}
	for i, raw := range strings.Split(string(data), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		if strings.HasPrefix(raw, " ") && len(lines) > 0 && lines[len(lines)-1].text != "" {
			lines[len(lines)-1].text += raw[1:]
			continue
		}
		lines = append(lines, line{no: i + 1, text: raw})
	}

	var (
		out     []*entry
		cur     *entry
		first   = true // no record seen yet, so "version: 1" is allowed
		skipRec bool
	)
	finish := func() {
		if cur != nil && !skipRec {
			out = append(out, cur)
		}
		cur, skipRec = nil, false
	}
	for _, l := range lines {
		where := fmt.Sprintf("%s:%d", name, l.no)
		if l.text == "" {
			finish()
			continue
		}
		if strings.HasPrefix(l.text, "#") {
			continue
		}
		attr, val, err := splitLDIFLine(l.text)
		if err != nil {
			return nil, &EntryError{Where: where, DN: dnOf(cur), Msg: err.Error()}
		}
		key := strings.ToLower(attr)
		if cur == nil && !skipRec {
			switch {
			case first && key == "version":
				if val != "1" {
					return nil, &EntryError{Where: where, Attr: "version", Msg: fmt.Sprintf("unsupported LDIF version %q", val)}
				}
				first = false
				continue
			case key == "search":
				skipRec = true // ldapsearch -L trailer: "search: N", "result: 0 Success"
				continue
			case key != "dn":
				return nil, &EntryError{Where: where, Attr: attr, Msg: "record does not start with dn:"}
			}
			first = false
			cur = &entry{DN: val, Attrs: map[string][]string{}, Where: where}
			continue
		}
		if skipRec {
			continue
		}
		switch key {
		case "dn":
			return nil, &EntryError{Where: where, DN: cur.DN, Attr: attr, Msg: "second dn: in one record (missing blank line?)"}
		case "control":
			return nil, &EntryError{Where: where, DN: cur.DN, Attr: attr, Msg: "LDIF controls are not supported in an export"}
		case "changetype":
			if strings.ToLower(val) != "add" {
				return nil, &EntryError{Where: where, DN: cur.DN, Attr: attr, Msg: fmt.Sprintf("changetype %q is not an export record", val)}
			}
			continue
		}
		cur.Attrs[key] = append(cur.Attrs[key], val)
	}
	finish()
	return out, nil
}

// decodeLDIFBytes strips a UTF-8 byte order mark and converts UTF-16
// (ldifde -u writes UTF-16LE with a BOM) to UTF-8.
func decodeLDIFBytes(name string, data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		order := binary.ByteOrder(binary.LittleEndian)
		if data[0] == 0xfe {
			order = binary.BigEndian
		}
		data = data[2:]
		if len(data)%2 != 0 {
			return nil, fmt.Errorf("ldap: %s: UTF-16 file with an odd number of bytes", name)
		}
		u := make([]uint16, len(data)/2)
		for i := range u {
			u[i] = order.Uint16(data[2*i:])
		}
		return []byte(string(utf16.Decode(u))), nil
	}
	return data, nil
}

// splitLDIFLine splits "attr: value", "attr:: base64" and rejects
// "attr:< url".
func splitLDIFLine(s string) (attr, val string, err error) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", "", fmt.Errorf("line has no attribute name and colon")
	}
	attr, rest := s[:i], s[i+1:]
	for _, c := range attr {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-;=.", c)) {
			return "", "", fmt.Errorf("bad attribute name %q", attr)
		}
	}
	switch {
	case strings.HasPrefix(rest, ":"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return "", "", fmt.Errorf("attribute %q: bad base64 value: %w", attr, err)
		}
		return attr, string(b), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", fmt.Errorf("attribute %q: URL values (:<) are not supported", attr)
	}
	return attr, strings.TrimLeft(rest, " "), nil
}

func dnOf(e *entry) string {
	if e == nil {
		return ""
	}
	return e.DN
}

// EntryError names the bad directory entry: the LDIF file and line when
// the input is a file, the DN and the attribute.
type EntryError struct {
	Where string // "export.ldif:12"; empty for a live read
	DN    string
	Attr  string
	Msg   string
}

func (e *EntryError) Error() string {
	var b strings.Builder
	b.WriteString("ldap: ")
	if e.Where != "" {
		b.WriteString(e.Where + ": ")
	}
	if e.DN != "" {
		fmt.Fprintf(&b, "entry %q: ", e.DN)
	}
	if e.Attr != "" {
		fmt.Fprintf(&b, "attribute %q: ", e.Attr)
	}
	b.WriteString(e.Msg)
	return b.String()
}
