package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Log appends records to one file. It is safe for concurrent use by many
// goroutines; one process at a time may hold a file open (Open takes an
// exclusive lock), since two writers would fork the chain.
type Log struct {
	path       string
	now        func() time.Time
	key        []byte
	checkpoint string

	mu     sync.Mutex
	f      *os.File
	last   Anchor
	broken error // set when a write may have left a partial line

	failures atomic.Int64
}

// Option configures Open.
type Option func(*Log)

// WithClock sets the clock that stamps records whose Time is zero.
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// WithKey authenticates every appended record with an HMAC-SHA256 under
// key (see ParseKey), and makes Open check the MACs already written.
func WithKey(key []byte) Option { return func(l *Log) { l.key = key } }

// WithCheckpoint makes every append also replace the file at path with a
// checkpoint of the new head (signed when a key is set). Kept outside the
// log (ideally on other storage), it is what `audit verify --anchor`
// checks to see lines cut from the end or an emptied log. Open refuses a
// log that no longer reaches the checkpoint.
func WithCheckpoint(path string) Option { return func(l *Log) { l.checkpoint = path } }

// Open opens or creates the log at path (mode 0600) for appending. It reads
// and verifies the whole existing file first, so it refuses to extend a
// chain that is already broken: the error is a *VerifyError naming the bad
// line, and nothing is appended until an operator has looked.
func Open(path string, opts ...Option) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: lock %s (another process has it open?): %w", path, err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	l := &Log{path: path, now: time.Now, f: f}
	for _, o := range opts {
		o(l)
	}
	last, err := l.check(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: open %s: refusing to append to a broken chain: %w", path, err)
	}
	l.last = last
	return l, nil
}

// check verifies the existing file before appending: the chain, the MACs
// when a key is set, and the checkpoint when one exists. Records without
// a MAC are accepted only as a prefix written before the key was set and
// not past the checkpoint (an attacker's unsigned append would otherwise
// be sealed by the next signed record).
func (l *Log) check(r io.Reader) (Anchor, error) {
	var cp *Anchor
	if l.checkpoint != "" {
		a, err := ReadAnchor(l.checkpoint)
		switch {
		case err == nil:
			if a.MAC != "" || l.key == nil {
				if err := checkAnchorMAC(l.key, a); err != nil {
					return Anchor{}, err
				}
			}
			cp = &a
		case !errors.Is(err, os.ErrNotExist):
			return Anchor{}, err
		}
	}
	var at *Record
	var firstUnsignedPastCP int
	var unsignedSeq int64
	st, err := scanWith(r, l.key, func(rec Record, line int) error {
		if cp != nil && rec.Seq == cp.Seq {
			c := rec
			at = &c
		}
		if l.key != nil && rec.MAC == "" && cp != nil && rec.Seq > cp.Seq && firstUnsignedPastCP == 0 {
			firstUnsignedPastCP, unsignedSeq = line, rec.Seq
		}
		return nil
	})
	if err != nil {
		return Anchor{}, err
	}
	if l.key != nil && cp != nil && cp.MAC == "" && st.macs > 0 {
		// Unsigned checkpoints are only written without a key; once
		// records carry MACs, an unsigned one was put there by hand.
		return Anchor{}, &VerifyError{Seq: cp.Seq, Reason: ReasonAnchorUnsigned}
	}
	if firstUnsignedPastCP != 0 {
		return Anchor{}, &VerifyError{Line: firstUnsignedPastCP, Seq: unsignedSeq, Reason: ReasonUnauthenticated,
			Detail: "written after the last checkpoint without the key"}
	}
	if cp != nil && cp.Seq > 0 {
		if at == nil {
			return Anchor{}, &VerifyError{Line: st.n + 1, Seq: cp.Seq, Reason: ReasonMissingTail,
				Detail: fmt.Sprintf("last record is seq %d, checkpoint %s is seq %d", st.last.Seq, l.checkpoint, cp.Seq)}
		}
		if at.Hash != cp.Hash {
			return Anchor{}, &VerifyError{Line: int(cp.Seq), Seq: cp.Seq, Reason: ReasonAnchorMismatch}
		}
	}
	return st.last, nil
}

// Append validates rec, chains it to the previous record, writes it as one
// line and fsyncs before returning the stored record. On a write or sync
// error the log stops accepting records (the file may end in a partial
// line that Verify will report).
func (l *Log) Append(ctx context.Context, rec Record) (Record, error) {
	out, err := l.append(ctx, rec)
	if err != nil {
		l.failures.Add(1)
	}
	return out, err
}

// Failures counts the appends that failed since Open (for the
// steward_audit_append_failures_total metric).
func (l *Log) Failures() int64 { return l.failures.Load() }

func (l *Log) append(ctx context.Context, rec Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("audit: append: %w", err)
	}
	switch {
	case rec.Action == "":
		return Record{}, fmt.Errorf("audit: append: %w: action is empty", ErrInvalidRecord)
	case rec.Actor == "":
		return Record{}, fmt.Errorf("audit: append %s: %w: actor is empty", rec.Action, ErrInvalidRecord)
	case !validWhere[rec.Where]:
		return Record{}, fmt.Errorf("audit: append %s: %w: where %q is not cli, http, slack, scheduler or system", rec.Action, ErrInvalidRecord, rec.Where)
	}
	if field := checkNoSecret(rec); field != "" {
		return Record{}, fmt.Errorf("audit: append %s: %w in %s (pass a masked id)", rec.Action, ErrSecretValue, field)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Record{}, fmt.Errorf("audit: append to %s: %w", l.path, ErrClosed)
	}
	if l.broken != nil {
		return Record{}, fmt.Errorf("audit: append to %s: %w after earlier failure: %w", l.path, ErrClosed, l.broken)
	}
	if rec.Time.IsZero() {
		rec.Time = l.now()
	}
	rec.Time = rec.Time.UTC().Round(0)
	rec.Seq = l.last.Seq + 1
	rec.PrevHash = l.last.Hash
	if rec.PrevHash == "" {
		rec.PrevHash = GenesisHash
	}
	h, err := rec.ComputeHash()
	if err != nil {
		return Record{}, err
	}
	rec.Hash = h
	if l.key != nil {
		rec.MAC = recordMAC(l.key, h)
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return Record{}, fmt.Errorf("audit: encode record %d: %w", rec.Seq, err)
	}
	line = append(line, '\n')
	// One write call per line: with O_APPEND the kernel places it at the
	// end as a whole.
	if _, err := l.f.Write(line); err != nil {
		l.broken = err
		return Record{}, fmt.Errorf("audit: write record %d to %s: %w", rec.Seq, l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		l.broken = err
		return Record{}, fmt.Errorf("audit: sync %s: %w", l.path, err)
	}
	l.last = Anchor{Seq: rec.Seq, Hash: rec.Hash}
	if l.checkpoint != "" {
		cp := l.last
		if l.key != nil {
			cp = cp.Sign(l.key, l.now())
		} else {
			cp.Time = l.now().UTC().Format(time.RFC3339Nano)
		}
		// The record is durable; a checkpoint that cannot be written still
		// fails the request, so nothing proceeds with an unanchored tail.
		if err := writeCheckpoint(l.checkpoint, cp); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// Head returns the seq and hash of the last record ({0, ""} for an empty
// log). Recorded outside the log, it lets VerifyAnchor detect records cut
// from the end, which the chain alone cannot.
func (l *Log) Head() Anchor {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Path returns the file the log writes.
func (l *Log) Path() string { return l.path }

// Close releases the file. Append fails with ErrClosed afterwards.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("audit: close %s: %w", l.path, err)
	}
	return nil
}
