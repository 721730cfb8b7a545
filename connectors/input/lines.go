package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// Lines reads a JSON-lines file one line at a time, making on each line
// the checks Check makes on the whole file (size limit, UTF-8, field
// length, a last line cut short), so that a file of any size is read
// with one line in memory. Errors name the file, line and byte offset,
// as Check's do; a problem is reported when its line is reached.
//
//	ls, err := input.OpenLines(path)
//	for ls.Next() { use(ls.Line(), ls.Bytes()) }
//	err = ls.Err()
type Lines struct {
	l      Limits
	name   string
	f      *os.File
	r      *bufio.Reader
	size   int64 // the file's size, -1 if not known
	off    int64 // bytes consumed, after the byte order mark
	bom    int64 // bytes of byte order mark skipped
	lineNo int
	buf    []byte
	cur    []byte
	err    error
	done   bool
}

// OpenLines opens path for Lines with Default limits.
func OpenLines(path string) (*Lines, error) { return Default().OpenLines(path) }

// OpenLines opens path, refusing at once a file over the size limit. A
// file in UTF-16 (it starts with a UTF-16 byte order mark) is read whole
// and converted, as ReadFile does.
func (l Limits) OpenLines(path string) (*Lines, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ls := &Lines{l: l, name: path, f: f, size: -1}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > l.File {
			f.Close()
			return nil, l.tooLarge(path, st.Size())
		}
		ls.size = st.Size()
	}
	ls.r = bufio.NewReaderSize(f, 1<<20)
	head, _ := ls.r.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		ls.r.Discard(3)
		ls.bom = 3
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		data, err := l.ReadAll(path, ls.r, JSONL)
		if err != nil {
			f.Close()
			return nil, err
		}
		ls.r = bufio.NewReader(bytes.NewReader(data))
	}
	return ls, nil
}

// Next reads the next line; false at the end of the file or on error.
func (ls *Lines) Next() bool {
	if ls.done {
		return false
	}
	start := ls.off
	line, err := ls.readLine()
	if err != nil && !errors.Is(err, io.EOF) {
		return ls.fail(fmt.Errorf("input: read %s: %w", ls.name, err))
	}
	if len(line) == 0 && err != nil {
		ls.done = true
		return false
	}
	ls.lineNo++
	ls.off += int64(len(line))
	if ls.off > ls.l.File {
		return ls.fail(ls.l.tooLarge(ls.name, -1))
	}
	terminated := line[len(line)-1] == '\n'
	if terminated {
		line = line[:len(line)-1]
	}
	if !utf8.Valid(line) {
		off := invalidAt(line)
		return ls.fail(&Error{File: ls.name, Line: ls.lineNo, Offset: start + int64(off), Err: ErrInvalidUTF8,
			Detail: fmt.Sprintf("byte 0x%02x", line[off])})
	}
	if s := scanJSON(line, false, ls.l.Field); s.err != nil {
		return ls.fail(&Error{File: ls.name, Line: ls.lineNo, Offset: start + int64(s.off), Err: s.err, Detail: s.detail})
	}
	// A last line without its newline is whole only if it is a JSON
	// value (some writers omit the final newline); a cut inside it is not.
	if !terminated && len(bytes.TrimSpace(line)) > 0 && !json.Valid(line) {
		return ls.fail(&Error{File: ls.name, Line: ls.lineNo, Offset: start, Err: ErrTruncated,
			Detail: "unexpected end: the last line has no newline and is not whole JSON"})
	}
	ls.cur = line
	return true
}

// readLine returns the next line with its newline, if it has one. Lines
// longer than the reader's buffer are gathered in ls.buf, up to the file
// limit.
func (ls *Lines) readLine() ([]byte, error) {
	b, err := ls.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return b, err
	}
	ls.buf = append(ls.buf[:0], b...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if int64(len(ls.buf)) > ls.l.File {
			return nil, ls.l.tooLarge(ls.name, -1)
		}
		b, err = ls.r.ReadSlice('\n')
		ls.buf = append(ls.buf, b...)
	}
	return ls.buf, err
}

func (ls *Lines) fail(err error) bool {
	ls.err, ls.done, ls.cur = err, true, nil
	return false
}

// Bytes is the current line without its newline. It is valid until the
// next call to Next.
func (ls *Lines) Bytes() []byte { return ls.cur }

// Line is the current line's number, from 1.
func (ls *Lines) Line() int { return ls.lineNo }

// Err is the error that stopped Next, if any.
func (ls *Lines) Err() error { return ls.err }

// Progress reports the bytes read so far and the file's size (-1 when
// it is not a regular file).
func (ls *Lines) Progress() (read, size int64) { return ls.off + ls.bom, ls.size }

// Close closes the file.
func (ls *Lines) Close() error { return ls.f.Close() }
