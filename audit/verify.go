package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Verify reads a log and checks every record: its seq follows the previous
// one, its prev_hash is the previous record's hash, its hash matches its
// content, its line is complete and canonical. It returns how many records
// are good and, for the first bad one, a *VerifyError naming its line and
// seq. An empty log fails: only an anchor can say it should be empty.
//
// Without a key or an anchor this cannot see a forged record appended
// with a recomputed hash, nor deleted last lines; see VerifyWith.
func Verify(r io.Reader) (n int, err error) {
	res, err := VerifyWith(r, VerifyOptions{})
	return res.Records, err
}

// VerifyAnchor is Verify plus a check against an anchor recorded earlier
// from Head: the log must reach the anchor's seq and the record there must
// carry the anchor's hash. This is what detects deleted last lines.
func VerifyAnchor(r io.Reader, a Anchor) (n int, err error) {
	res, err := VerifyWith(r, VerifyOptions{Anchor: &a, AllowEmpty: a.Seq == 0})
	return res.Records, err
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
func HeadFile(path string) (Anchor, error) { return HeadFileWith(path, nil, time.Time{}) }

// HeadFileWith is HeadFile checking MACs with key and signing the anchor
// with it (stamped now), so a later verify with the key accepts it.
func HeadFileWith(path string, key []byte, now time.Time) (Anchor, error) {
	f, err := os.Open(path)
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: head %s: %w", path, err)
	}
	defer f.Close()
	res, err := VerifyWith(f, VerifyOptions{Key: key, AllowEmpty: true})
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: head %s: %w", path, err)
	}
	if key != nil {
		return res.Last.Sign(key, now), nil
	}
	return res.Last, nil
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

// scanState is where a scan stopped.
type scanState struct {
	last    Anchor // the last good record
	n       int    // good records
	macs    int    // records whose MAC was checked
	lastMAC bool   // the last good record carries a checked MAC
}

// scan walks the chain without a key, calling fn for each good record,
// and returns the anchor of the last good record and how many were good.
func scan(r io.Reader, fn func(Record, int) error) (last Anchor, n int, err error) {
	st, err := scanWith(r, nil, fn)
	return st.last, st.n, err
}

// scanWith walks the chain. With a key, a record carrying a MAC must
// carry the right one, and once one record has a MAC every later record
// must have one (records before the first MAC are a log written before
// the key was configured; the first MAC covers them through the chain).
func scanWith(r io.Reader, key []byte, fn func(Record, int) error) (st scanState, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	prevHash := GenesisHash
	var prevSeq int64
	sawMAC := false
	for line := 1; ; line++ {
		b, rerr := br.ReadBytes('\n')
		if len(b) == 0 && errors.Is(rerr, io.EOF) {
			return st, nil
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return st, fmt.Errorf("audit: read line %d: %w", line, rerr)
		}
		complete := rerr == nil
		rec, derr := decodeLine(b)
		if !complete {
			return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonTruncated,
				Detail: fmt.Sprintf("%d bytes without a final newline", len(b))}
		}
		if derr != nil {
			return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonMalformed, Detail: derr.Error()}
		}
		if rec.Seq != prevSeq+1 {
			return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonSeqGap,
				Detail: fmt.Sprintf("want seq %d", prevSeq+1)}
		}
		if rec.PrevHash != prevHash {
			return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonPrevHash}
		}
		h, herr := rec.ComputeHash()
		if herr != nil {
			return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonMalformed, Detail: herr.Error()}
		}
		if h != rec.Hash {
			return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonEdited}
		}
		macOK := false
		if key != nil {
			switch {
			case rec.MAC != "":
				if !hmac.Equal([]byte(rec.MAC), []byte(recordMAC(key, rec.Hash))) {
					return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonForged}
				}
				sawMAC, macOK = true, true
			case sawMAC:
				return st, &VerifyError{Line: line, Seq: rec.Seq, Reason: ReasonUnauthenticated,
					Detail: "an earlier record carries a MAC, this one none"}
			}
		}
		if fn != nil {
			if err := fn(rec, line); err != nil {
				return st, err
			}
		}
		st.n++
		if macOK {
			st.macs++
		}
		st.lastMAC = macOK
		prevSeq, prevHash = rec.Seq, rec.Hash
		st.last = Anchor{Seq: rec.Seq, Hash: rec.Hash}
	}
}

// decodeLine decodes one line strictly and checks it is in canonical
// form: an added field, a duplicated or re-cased key, reordered fields or
// changed whitespace are all edits, even where encoding/json would read
// the same record (it matches keys case-insensitively and keeps the last
// of two duplicates).
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
	if k := duplicateKey(b); k != "" {
		return rec, fmt.Errorf("duplicate key %q", k)
	}
	canon, err := json.Marshal(rec)
	if err != nil {
		return rec, err
	}
	if !bytes.Equal(canon, bytes.TrimSuffix(b, []byte("\n"))) {
		return rec, errors.New("not in canonical form (a re-cased key, reordered fields or changed spacing)")
	}
	return rec, nil
}
