package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

// TestSnapshotBlob checks each backend keeps the snapshot whole: what was
// written last is read back, a failed write leaves the previous one, and
// the memory store keeps none.
func TestSnapshotBlob(t *testing.T) {
	ctx := context.Background()
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			s := bc.open(t)
			want := bc.name != "memory"
			if s.Snapshots() != want {
				t.Fatalf("Snapshots() = %v, want %v", s.Snapshots(), want)
			}
			got, err := s.ReadSnapshot(ctx)
			if err != nil || got != nil {
				t.Fatalf("fresh store: %q, %v; want none", got, err)
			}
			put := func(b []byte) error {
				return s.WriteSnapshot(ctx, func(w io.Writer) error { _, err := w.Write(b); return err })
			}
			first := bytes.Repeat([]byte("snapshot one "), 100_000) // larger than one buffer
			for _, b := range [][]byte{first, []byte("two")} {
				if err := put(b); err != nil {
					t.Fatal(err)
				}
				got, err := s.ReadSnapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want && !bytes.Equal(got, b) {
					t.Fatalf("read %d bytes, want %d", len(got), len(b))
				}
				if !want && got != nil {
					t.Fatal("memory store returned a snapshot")
				}
			}
			boom := errors.New("encoder failed")
			err = s.WriteSnapshot(ctx, func(w io.Writer) error { w.Write([]byte("half")); return boom })
			if want && !errors.Is(err, boom) {
				t.Fatalf("failed write: %v, want %v", err, boom)
			}
			if got, _ := s.ReadSnapshot(ctx); want && string(got) != "two" {
				t.Fatalf("after a failed write: %q, want the previous snapshot", got)
			}
		})
	}
}
