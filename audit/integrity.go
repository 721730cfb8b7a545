package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MinKeyLen is the shortest audit key accepted, in bytes.
const MinKeyLen = 32

// ParseKey turns the contents of an audit key file (or STEWARD_AUDIT_KEY)
// into key bytes: hex when the trimmed text is all hex digits (64 for a
// 32-byte key), the raw trimmed bytes otherwise. Shorter than MinKeyLen
// bytes is an error, since a guessable key authenticates nothing.
func ParseKey(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, errors.New("audit: key is empty")
	}
	key := []byte(s)
	if len(s)%2 == 0 {
		if h, err := hex.DecodeString(s); err == nil {
			key = h
		}
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("audit: key is %d bytes, want at least %d (e.g. 64 hex digits from `openssl rand -hex 32`)", len(key), MinKeyLen)
	}
	return key, nil
}

// Domain separation: a record MAC can never pass for a checkpoint MAC.
const (
	macRecord     = "steward-audit-record-v1\n"
	macCheckpoint = "steward-audit-checkpoint-v1\n"
)

// recordMAC is HMAC-SHA256 over the record's hash, which covers every
// other field and the chain before it.
func recordMAC(key []byte, hash string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macRecord))
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil))
}

// checkpointMAC authenticates (seq, hash, time) of an anchor.
func checkpointMAC(key []byte, a Anchor) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macCheckpoint))
	m.Write([]byte(strconv.FormatInt(a.Seq, 10) + "\n" + a.Hash + "\n" + a.Time))
	return hex.EncodeToString(m.Sum(nil))
}

// Sign returns a with Time set (when empty) and its MAC computed with key.
func (a Anchor) Sign(key []byte, now time.Time) Anchor {
	if a.Time == "" {
		a.Time = now.UTC().Format(time.RFC3339Nano)
	}
	a.MAC = checkpointMAC(key, a)
	return a
}

// checkAnchorMAC verifies a checkpoint's MAC when a key is given.
func checkAnchorMAC(key []byte, a Anchor) error {
	if key == nil {
		return nil
	}
	if a.MAC == "" {
		return &VerifyError{Seq: a.Seq, Reason: ReasonAnchorUnsigned}
	}
	if !hmac.Equal([]byte(a.MAC), []byte(checkpointMAC(key, a))) {
		return &VerifyError{Seq: a.Seq, Reason: ReasonAnchorForged}
	}
	return nil
}

// ReadAnchor reads an anchor or checkpoint file (the JSON `audit head`
// prints, or the checkpoint the log writes). The decode is strict: an
// unknown or duplicated field is an error.
func ReadAnchor(path string) (Anchor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: read anchor %s: %w", path, err)
	}
	if k := duplicateKey(b); k != "" {
		return Anchor{}, fmt.Errorf("audit: anchor %s: duplicate key %q", path, k)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var a Anchor
	if err := dec.Decode(&a); err != nil {
		return Anchor{}, fmt.Errorf("audit: anchor %s: %w", path, err)
	}
	if a.Seq < 0 || (a.Seq > 0 && len(a.Hash) != 64) {
		return Anchor{}, fmt.Errorf("audit: anchor %s: want a seq and a 64-digit hash", path)
	}
	return a, nil
}

// writeCheckpoint replaces the file at path with a atomically (a
// temporary file in the same directory, fsynced, then renamed), so a
// crash leaves the old checkpoint or the new one, never half of one.
func writeCheckpoint(path string, a Anchor) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("audit: encode checkpoint: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("audit: write checkpoint %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o600)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("audit: write checkpoint %s: %w", path, werr)
	}
	return nil
}

// duplicateKey returns the first object key that appears twice in the
// same JSON object of b (at any depth), or "". encoding/json keeps the
// last of two duplicates silently, so a line could show one value to a
// reader and hash another.
func duplicateKey(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{obj: v == '{', keys: map[string]bool{}, key: v == '{'})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.obj && top.key {
				if top.keys[v] {
					return v
				}
				top.keys[v] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.obj {
			top.key = true
		}
	}
}

// VerifyOptions say what Verify checks beyond the hash chain.
type VerifyOptions struct {
	// Key, when set, is the audit key: every record from the first one
	// carrying a MAC on must carry a valid one, the last record must
	// carry one, and the anchor must be signed with it.
	Key []byte
	// Anchor, when set, is a checkpoint (or `audit head` output) the log
	// must still reach, with the same hash at its seq.
	Anchor *Anchor
	// AllowEmpty accepts a log with no records (a fresh install) when no
	// anchor says there were records. Otherwise an empty log fails.
	AllowEmpty bool
}

// Result is what a verification established.
type Result struct {
	Records int    // good records
	MACs    int    // records whose MAC was checked
	Last    Anchor // the last good record
	// Anchored is true when an anchor was checked.
	Anchored bool
}

// VerifyWith verifies r with o. On failure the error is a *VerifyError
// (wrapping ErrBrokenChain) naming the line and seq.
func VerifyWith(r io.Reader, o VerifyOptions) (Result, error) {
	var res Result
	var at *Record
	var atLine int
	if o.Anchor != nil {
		if err := checkAnchorMAC(o.Key, *o.Anchor); err != nil {
			return res, err
		}
	}
	st, err := scanWith(r, o.Key, func(rec Record, line int) error {
		if o.Anchor != nil && rec.Seq == o.Anchor.Seq {
			c := rec
			at, atLine = &c, line
		}
		return nil
	})
	res.Records, res.MACs, res.Last = st.n, st.macs, st.last
	if err != nil {
		return res, err
	}
	if o.Key != nil && st.n > 0 && !st.lastMAC {
		return res, &VerifyError{Line: st.n, Seq: st.last.Seq, Reason: ReasonUnauthenticated,
			Detail: "the last record carries no MAC (written without the key, or appended by someone without it)"}
	}
	if o.Anchor != nil && o.Anchor.Seq > 0 {
		res.Anchored = true
		if at == nil {
			return res, &VerifyError{Line: st.n + 1, Seq: o.Anchor.Seq, Reason: ReasonMissingTail,
				Detail: fmt.Sprintf("last record is seq %d, anchor is seq %d", st.last.Seq, o.Anchor.Seq)}
		}
		if at.Hash != o.Anchor.Hash {
			return res, &VerifyError{Line: atLine, Seq: o.Anchor.Seq, Reason: ReasonAnchorMismatch}
		}
	}
	if st.n == 0 && !o.AllowEmpty {
		return res, &VerifyError{Line: 1, Reason: ReasonEmpty}
	}
	return res, nil
}

// VerifyFileWith verifies the log at path with o.
func VerifyFileWith(path string, o VerifyOptions) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("audit: verify %s: %w", path, err)
	}
	defer f.Close()
	res, err := VerifyWith(f, o)
	if err != nil {
		return res, fmt.Errorf("audit: verify %s: %w", path, err)
	}
	return res, nil
}
