package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// The store keeps, next to the record, one opaque index snapshot (see
// graph.WriteSnapshot): a file beside the bolt file, a row in PostgreSQL
// so replicas fetch it instead of re-reading every quad. The store does
// not interpret it; the snapshot carries the generation it was built
// from and readers compare that with Generation, so a snapshot that lags
// the record (a crash between the record's commit and the snapshot's
// write, another replica's write) is detected, never believed.

// snapshotFile is the snapshot's name in the bolt directory.
const snapshotFile = "index.snap"

// snapshotBackend is implemented by backends that can keep a snapshot.
type snapshotBackend interface {
	readSnapshot(ctx context.Context) ([]byte, error)
	writeSnapshot(ctx context.Context, write func(io.Writer) error) error
}

// Snapshots reports whether the store keeps an index snapshot (bolt and
// PostgreSQL do; the in-memory store does not, there is nothing to reopen).
func (s *Store) Snapshots() bool {
	_, ok := s.b.(snapshotBackend)
	return ok
}

// ReadSnapshot returns the stored snapshot, nil if there is none. On bolt
// it is a read-only memory map that stays mapped for the life of the
// process (strings of an opened index point into it).
func (s *Store) ReadSnapshot(ctx context.Context) ([]byte, error) {
	sb, ok := s.b.(snapshotBackend)
	if !ok {
		return nil, nil
	}
	b, err := sb.readSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: read snapshot: %w", err)
	}
	return b, nil
}

// WriteSnapshot replaces the stored snapshot with what write produces, as
// a whole: a failed or interrupted write leaves the previous one.
func (s *Store) WriteSnapshot(ctx context.Context, write func(io.Writer) error) error {
	sb, ok := s.b.(snapshotBackend)
	if !ok {
		return nil
	}
	if err := sb.writeSnapshot(ctx, write); err != nil {
		return fmt.Errorf("store: write snapshot: %w", err)
	}
	return nil
}

// fileSnapshot keeps the snapshot in a file.
type fileSnapshot struct{ path string }

func (f fileSnapshot) readSnapshot(context.Context) ([]byte, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, nil
	}
	if st.Size() > int64(^uint(0)>>1) {
		return nil, fmt.Errorf("%s: too large to map", f.path)
	}
	// The mapping outlives the descriptor; it is never unmapped because
	// index strings point into it.
	b, err := syscall.Mmap(int(fh.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", f.path, err)
	}
	return b, nil
}

func (f fileSnapshot) writeSnapshot(_ context.Context, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), snapshotFile+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	bw := newBufWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// rename is atomic: a reader maps the old file or the new one. The
	// old file's existing mappings stay valid after it is unlinked.
	return os.Rename(tmp.Name(), f.path)
}

// bufWriter is a plain buffered writer that remembers its first error.
type bufWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newBufWriter(w io.Writer) *bufWriter { return &bufWriter{w: w, buf: make([]byte, 0, 1<<20)} }

func (b *bufWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flush(); err != nil {
			return 0, err
		}
		if len(p) >= cap(b.buf) {
			if _, err := b.w.Write(p); err != nil {
				b.err = err
				return 0, err
			}
			return len(p), nil
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *bufWriter) flush() error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf) > 0 {
		if _, err := b.w.Write(b.buf); err != nil {
			b.err = err
			return err
		}
		b.buf = b.buf[:0]
	}
	return nil
}

// pgSnapshotTable holds the one snapshot row.
const pgSnapshotTable = `CREATE TABLE IF NOT EXISTS steward_snapshot (id int PRIMARY KEY CHECK (id = 1), data bytea NOT NULL)`

func (b *pgBackend) readSnapshot(ctx context.Context) ([]byte, error) {
	var data []byte
	err := b.db.QueryRowContext(ctx, `SELECT data FROM steward_snapshot WHERE id = 1`).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return data, err
}

func (b *pgBackend) writeSnapshot(ctx context.Context, write func(io.Writer) error) error {
	var buf bytesBuffer
	if err := write(&buf); err != nil {
		return err
	}
	_, err := b.db.ExecContext(ctx, `INSERT INTO steward_snapshot (id, data) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, []byte(buf))
	return err
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// boltBackend is the bolt store with its snapshot file.
type boltBackend struct {
	*cayleyBackend
	fileSnapshot
	path string // the bolt file
}

func openBoltSnap(dir string) (backend, error) {
	cb, err := openBolt(dir)
	if err != nil {
		return nil, err
	}
	return &boltBackend{cb, fileSnapshot{filepath.Join(dir, snapshotFile)}, filepath.Join(dir, boltFile)}, nil
}
