package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Verify reads a log and checks every record: its seq follows the previous
// one, its prev_hash is the previous record's hash, its hash matches its
// content, and its line is complete. It returns how many records are good
// and, for the first bad one, a *VerifyError naming its line and seq.
//
// A log whose last records were deleted still verifies; see VerifyAnchor.
func Verify(r io.Reader) (n int, err error) {
	_, n, err = scan(r, nil)
	return n, err
}

// VerifyAnchor is Verify plus a check against an anchor recorded earlier
// from Head: the log must reach the anchor's seq and the record there must
// carry the anchor's hash. This is what detects deleted last lines.
func VerifyAnchor(r io.Reader, a Anchor) (n int, err error) {
	var at *Record
	var atLine int
	last, n, err := scan(r, func(rec Record, line int) error {
		if rec.Seq == a.Seq {
			c := rec
			at, atLine = &c, line
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if a.Seq == 0 {
		return n, nil
	}
	if at == nil {
		return n, &VerifyError{Line: n + 1, Seq: a.Seq, Reason: ReasonMissingTail,
			Detail: fmt.Sprintf("last record is seq %d, anchor is seq %d", last.Seq, a.Seq)}
	}
	if at.Hash != a.Hash {
		return n, &VerifyError{Line: atLine, Seq: a.Seq, Reason: ReasonAnchorMismatch}
	}
	return n, nil
}

// Export verifies r while copying its records to w as JSON lines, one
// record per line in the stored form (hash fields included, so the output
// verifies on its own). Only verified records are written: on a broken
// chain the output stops before the bad record and the *VerifyError is
// returned.
func Export(w io.Writer, r io.Reader) (n int, err error) {
	bw := bufio.NewWriter(w)
	_, n, err = scan(r, func(rec Record, _ int) error {
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("audit: export record %d: %w", rec.Seq, err)
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("audit: export record %d: %w", rec.Seq, err)
		}
		return nil
	})
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("audit: export: %w", ferr)
	}
	return n, err
}

// VerifyFile verifies the log at path (for `steward audit verify`).
func VerifyFile(path string) (n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("audit: verify %s: %w", path, err)
	}
	defer f.Close()
	n, err = Verify(f)
	if err != nil {
		return n, fmt.Errorf("audit: verify %s: %w", path, err)
	}
	return n, nil
}

// VerifyFileAnchor verifies the log at path against an anchor.
func VerifyFileAnchor(path string, a Anchor) (n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("audit: verify %s: %w", path, err)
	}
	defer f.Close()
	n, err = VerifyAnchor(f, a)
	if err != nil {
		return n, fmt.Errorf("audit: verify %s: %w", path, err)
	}
	return n, nil
}

// HeadFile verifies the log at path and returns its last record's anchor,
// for an operator to record outside the log (`steward audit head`). It
// reads without taking the writer's lock, so it works while serve runs.
func HeadFile(path string) (Anchor, error) {
	f, err := os.Open(path)
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: head %s: %w", path, err)
	}
	defer f.Close()
	last, _, err := scan(f, nil)
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: head %s: %w", path, err)
	}
	return last, nil
}

// ExportFile exports the log at path to w (for `steward audit export`).
func ExportFile(path string, w io.Writer) (n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("audit: export %s: %w", path, err)
	}
	defer f.Close()
	n, err = Export(w, f)
	if err != nil {
		return n, fmt.Errorf("audit: export %s: %w", path, err)
	}
	return n, nil
}

// scan walks the chain, calling fn for each good record, and returns the
// anchor of the last good record and how many were good.
func scan(r io.Reader, fn func(Record, int) error) (last Anchor, n int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	prevHash := GenesisHash
	var prevSeq int64
	for line := 1; ; line++ {
		b, rerr := br.ReadBytes('\n')
		if len(b) == 0 && errors.Is(rerr, io.EOF) {
			return last, n, nil
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return last, n, fmt.Errorf("audit: read line %d: %w", line, rerr)
		}
		complete := rerr == nil
		rec, derr := decodeLine(b)
		if !complete {
			return last, n, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonTruncated,
				Detail: fmt.Sprintf("%d bytes without a final newline", len(b))}
		}
		if derr != nil {
			return last, n, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonMalformed, Detail: derr.Error()}
		}
		if rec.Seq != prevSeq+1 {
			return last, n, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonSeqGap,
				Detail: fmt.Sprintf("want seq %d", prevSeq+1)}
		}
		if rec.PrevHash != prevHash {
			return last, n, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonPrevHash}
		}
		h, herr := rec.ComputeHash()
		if herr != nil {
			return last, n, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonMalformed, Detail: herr.Error()}
		}
		if h != rec.Hash {
			return last, n, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonEdited}
		}
		if fn != nil {
			if err := fn(rec, line); err != nil {
				return last, n, err
			}
		}
		n++
		prevSeq, prevHash = rec.Seq, rec.Hash
		last = Anchor{Seq: rec.Seq, Hash: rec.Hash}
	}
}

// decodeLine decodes one line strictly: an added field is an edit too.
func decodeLine(b []byte) (Record, error) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, err
	}
	if dec.More() {
		return rec, errors.New("more than one JSON value on the line")
	}
	return rec, nil
}
