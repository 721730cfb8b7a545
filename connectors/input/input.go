// Package input is the first check every file loader makes: a file must be
// whole, within size limits, and valid text before a connector parses it.
// A truncated export that still parses would replace a source with less; a
// 2 GB file or a 100 MB field would take the process's memory; invalid
// UTF-8 would be stored as U+FFFD; a directory entry skipped silently
// would drop part of a source. Each is an error here that names the file
// and, where there is one, the line and byte offset.
//
// Completeness is checked as far as a format allows. A JSON document is
// checked whole by the connector's decoder, which refuses one that ends
// early. JSONL and CSV must end with a newline, the last record's
// terminator, except where real exporters write none: a JSONL last line
// must then be whole JSON, and CSVUnterminated (the AWS credential report)
// is checked by its connector. LDIF must end with a blank line after its
// last entry; YAML must end with a newline. A file cut exactly at a record
// boundary cannot be told from a shorter export by its bytes alone;
// connectors that have a count or trailer check it too.
package input

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"
)

// Format is the syntax a file is checked against.
type Format int

const (
	JSON  Format = iota // one JSON document (or several, whitespace-separated)
	JSONL               // one JSON value per line, each line ending in \n
	CSV                 // RFC 4180 records, the last ending in a newline
	// CSVUnterminated is CSV whose exporter writes no newline after the
	// last record (the AWS credential report); the connector checks that
	// record whole (column count, typed last column).
	CSVUnterminated
	LDIF // RFC 2849, entries separated and ended by a blank line
	YAML // one or more YAML documents
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "JSON"
	case JSONL:
		return "JSONL"
	case CSV, CSVUnterminated:
		return "CSV"
	case LDIF:
		return "LDIF"
	case YAML:
		return "YAML"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Categories of refusal, for errors.Is.
var (
	ErrTooLarge     = errors.New("file too large")
	ErrFieldTooLong = errors.New("field too long")
	ErrInvalidUTF8  = errors.New("invalid UTF-8")
	ErrTruncated    = errors.New("file is incomplete (truncated?)")
	ErrEmpty        = errors.New("file yields nothing")
	ErrUnrecognised = errors.New("unrecognised directory entry")
)

// Error is a refused file: which file, where in it, and why.
type Error struct {
	File   string
	Line   int   // 1-based; 0 when not known
	Offset int64 // byte offset from the start of the file; -1 when not known
	Err    error // one of the Err* categories
	Detail string
}

func (e *Error) Error() string {
	s := "input: " + e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (offset %d)", e.Offset)
	}
	s += ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Limits bound what one file may hold.
type Limits struct {
	File  int64 // bytes per file
	Field int64 // bytes per field: a JSON string, a CSV cell, an LDIF or YAML line
}

// Default limits: far above any real export (a 100,000-user AWS
// authorization-details file is ~300 MB; no name, policy or certificate
// value comes near 1 MiB), far below what would exhaust memory.
const (
	DefaultFileLimit  = 512 << 20
	DefaultFieldLimit = 1 << 20
)

// current is the limits every connector uses: the defaults unless the
// configuration (input.max_file_bytes, input.max_field_bytes) set others.
// Atomic because serve's syncs read it while a command may set it.
var current atomic.Pointer[Limits]

// Default returns the limits in force.
func Default() Limits {
	if l := current.Load(); l != nil {
		return *l
	}
	return Limits{File: DefaultFileLimit, Field: DefaultFieldLimit}
}

// SetDefault sets the limits every connector uses; a zero field keeps
// its default.
func SetDefault(l Limits) {
	if l.File <= 0 {
		l.File = DefaultFileLimit
	}
	if l.Field <= 0 {
		l.Field = DefaultFieldLimit
	}
	current.Store(&l)
}

// ReadFile reads path with Default limits; see Limits.ReadFile.
func ReadFile(path string, f Format) ([]byte, error) { return Default().ReadFile(path, f) }

// Check checks data read from name with Default limits; see Limits.Check.
func Check(name string, data []byte, f Format) ([]byte, error) { return Default().Check(name, data, f) }

// ReadAll reads r (a decompressed stream, say) with Default limits.
func ReadAll(name string, r io.Reader, f Format) ([]byte, error) {
	return Default().ReadAll(name, r, f)
}

// ReadFile reads path whole and checks it. The size is checked before
// anything is read, so an oversized file fails at once.
func (l Limits) ReadFile(path string, f Format) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > l.File {
		return nil, l.tooLarge(path, st.Size())
	}
	return l.ReadAll(path, fh, f)
}

// ReadAll reads r to its end, refusing more than l.File bytes, and checks
// the result.
func (l Limits) ReadAll(name string, r io.Reader, f Format) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, l.File+1))
	if err != nil {
		return nil, fmt.Errorf("input: read %s: %w", name, err)
	}
	if int64(len(data)) > l.File {
		return nil, l.tooLarge(name, -1)
	}
	return l.Check(name, data, f)
}

func (l Limits) tooLarge(name string, size int64) error {
	d := fmt.Sprintf("more than the limit of %d bytes (input.max_file_bytes)", l.File)
	if size >= 0 {
		d = fmt.Sprintf("%d bytes, more than the limit of %d (input.max_file_bytes)", size, l.File)
	}
	return &Error{File: name, Offset: -1, Err: ErrTooLarge, Detail: d}
}

// Check checks data, the content of file name, and returns it as UTF-8: a
// UTF-8 byte order mark is removed and UTF-16 with a byte order mark
// (ldifde -u, PowerShell's Out-File) is converted. It refuses a file over
// the size limit, invalid UTF-8 (with its byte offset), a field over the
// field limit, and a file that is not whole for its format.
func (l Limits) Check(name string, data []byte, f Format) ([]byte, error) {
	if int64(len(data)) > l.File {
		return nil, l.tooLarge(name, int64(len(data)))
	}
	data, err := decodeBOM(name, data)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		off := invalidAt(data)
		return nil, &Error{File: name, Line: lineAt(data, off), Offset: int64(off), Err: ErrInvalidUTF8,
			Detail: fmt.Sprintf("byte 0x%02x", data[off])}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return data, nil // each connector says in its own words what it wanted
	}
	var s scanner
	switch f {
	case JSON, JSONL:
		s = scanJSON(data, f == JSONL, l.Field)
	case CSV, CSVUnterminated:
		s = scanCSV(data, f == CSV, l.Field)
	case LDIF:
		s = scanLDIF(data, l.Field)
	case YAML:
		s = scanLines(data, l.Field)
	default:
		return nil, fmt.Errorf("input: %s: unknown format %v", name, f)
	}
	if s.err != nil {
		return nil, &Error{File: name, Line: lineAt(data, s.off), Offset: int64(s.off), Err: s.err, Detail: s.detail}
	}
	return data, nil
}

// decodeBOM strips a UTF-8 byte order mark and converts UTF-16 that
// starts with one.
func decodeBOM(name string, data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		var order binary.ByteOrder = binary.LittleEndian
		if data[0] == 0xfe {
			order = binary.BigEndian
		}
		body := data[2:]
		if len(body)%2 != 0 {
			return nil, &Error{File: name, Offset: int64(len(data) - 1), Err: ErrTruncated, Detail: "UTF-16 file with an odd number of bytes"}
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			u[i] = order.Uint16(body[2*i:])
		}
		for i := 0; i < len(u); i++ {
			switch {
			case utf16.IsSurrogate(rune(u[i])) && u[i] < 0xdc00 && i+1 < len(u) && u[i+1] >= 0xdc00 && u[i+1] <= 0xdfff:
				i++
			case utf16.IsSurrogate(rune(u[i])):
				return nil, &Error{File: name, Offset: int64(2 + 2*i), Err: ErrInvalidUTF8, Detail: "unpaired UTF-16 surrogate"}
			}
		}
		return []byte(string(utf16.Decode(u))), nil
	}
	return data, nil
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// scanner is the result of a format scan: the first problem and where.
type scanner struct {
	err    error
	off    int
	detail string
}

func fieldTooLong(start int, n, limit int64) scanner {
	return scanner{err: ErrFieldTooLong, off: start, detail: fmt.Sprintf("a field of more than the limit of %d bytes (input.max_field_bytes)", limit)}
}

// scanJSON checks that no string is longer than limit and, with lines
// set, that the data ends with a newline. Whether each document is whole
// is left to the connector's JSON decoder, which refuses a document that
// ends early ("unexpected end of JSON input") with its offset.
func scanJSON(data []byte, lines bool, limit int64) scanner {
	var (
		inStr, esc bool
		start      int
	)
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inStr {
			if c == '"' {
				inStr, start = true, i
			}
			continue
		}
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '"', c == '\n': // a raw newline ends a broken string; the decoder reports it
			inStr = false
			continue
		}
		if int64(i-start) > limit {
			return fieldTooLong(start, int64(i-start), limit)
		}
	}
	// A last line without its newline is whole only if it is a JSON value
	// (some writers omit the final newline); a cut inside it is not.
	if last := lastLineStart(data); lines && data[len(data)-1] != '\n' && !json.Valid(data[last:]) {
		return scanner{err: ErrTruncated, off: last, detail: "unexpected end: the last line has no newline and is not whole JSON"}
	}
	return scanner{}
}

// scanCSV checks that quoted cells close, that no cell is longer than
// limit, and that the last record ends with a newline.
func scanCSV(data []byte, terminated bool, limit int64) scanner {
	inQ := false
	start := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			inQ = !inQ // "" inside a quoted cell toggles twice
		case !inQ && (c == ',' || c == '\n'):
			start = i + 1
			continue
		}
		if int64(i-start) >= limit {
			return fieldTooLong(start, int64(i-start), limit)
		}
	}
	switch {
	case inQ:
		return scanner{err: ErrTruncated, off: start, detail: "quoted cell not closed at the end of the file"}
	case terminated && data[len(data)-1] != '\n':
		return scanner{err: ErrTruncated, off: lastLineStart(data), detail: "last record has no newline"}
	}
	return scanner{}
}

// scanLDIF checks that no logical line (a line with its continuation
// lines) is longer than limit and that the last entry is followed by a
// blank line, as every LDIF exporter writes it.
func scanLDIF(data []byte, limit int64) scanner {
	var (
		logical   = 0  // start of the current logical line
		lastEntry = -1 // start of the last content line not yet followed by a blank line
		lineStart = 0
		inComment bool
	)
	for lineStart < len(data) {
		end := bytes.IndexByte(data[lineStart:], '\n')
		next := len(data)
		if end >= 0 {
			end += lineStart
			next = end + 1
		} else {
			end = len(data)
		}
		line := bytes.TrimSuffix(data[lineStart:end], []byte("\r"))
		switch {
		case len(line) == 0:
			lastEntry = -1
			inComment = false
		case line[0] == ' ':
			if !inComment && int64(end-logical) > limit {
				return fieldTooLong(logical, int64(end-logical), limit)
			}
		case line[0] == '#':
			inComment = true
			logical = lineStart
		default:
			inComment = false
			logical = lineStart
			if lastEntry < 0 {
				lastEntry = lineStart
			}
			if int64(end-logical) > limit {
				return fieldTooLong(logical, int64(end-logical), limit)
			}
		}
		lineStart = next
	}
	if lastEntry >= 0 {
		return scanner{err: ErrTruncated, off: lastEntry, detail: "last entry is not ended by a blank line"}
	}
	return scanner{}
}

// scanLines checks that no line is longer than limit and that the last
// line ends with a newline: YAML cut in the middle of a line still parses
// (as a shorter name, a missing key), so the cut must be seen here.
func scanLines(data []byte, limit int64) scanner {
	if data[len(data)-1] != '\n' {
		return scanner{err: ErrTruncated, off: lastLineStart(data), detail: "last line has no newline"}
	}
	start := 0
	for start < len(data) {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data) - start
		}
		if int64(end) > limit {
			return fieldTooLong(start, int64(end), limit)
		}
		start += end + 1
	}
	return scanner{}
}

func lastLineStart(data []byte) int {
	return bytes.LastIndexByte(data, '\n') + 1
}
