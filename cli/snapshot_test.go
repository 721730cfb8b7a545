package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAskFromSnapshot: demo --out leaves an index snapshot beside the
// bolt file; ask answers from it exactly what it answers from the
// in-memory demo, and again after the snapshot is deleted or damaged
// (rebuilt from the record) and after the record changed under it.
func TestAskFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "g.db")
	snap := filepath.Join(db, "index.snap")
	if code, _, errs := run(t, "demo", "--size", "300", "--out", db); code != 0 {
		t.Fatalf("demo: %s", errs)
	}
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("demo --out wrote no snapshot: %v", err)
	}
	const q = "admins idle 30 days"
	_, want, _ := run(t, "ask", "--demo", "--size", "300", "--now", "2026-11-01T12:00:00Z", "--format", "csv", q)
	if len(want) < 100 {
		t.Fatalf("demo answer too small to compare:\n%s", want)
	}
	steps := []struct {
		name   string
		before func(t *testing.T)
	}{
		{"from the snapshot", nil},
		{"snapshot deleted", func(t *testing.T) {
			if err := os.Remove(snap); err != nil {
				t.Fatal(err)
			}
		}},
		{"rebuilt snapshot", nil},
		{"snapshot damaged", func(t *testing.T) {
			b, err := os.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			os.WriteFile(snap, b, 0o600)
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before(t)
			}
			code, got, errs := run(t, "ask", "--graph", db, "--now", "2026-11-01T12:00:00Z", "--format", "csv", q)
			if code != 0 || got != want {
				t.Fatalf("exit %d %s\ngot:\n%s\nwant:\n%s", code, errs, got, want)
			}
			if _, err := os.Stat(snap); err != nil {
				t.Fatalf("ask left no snapshot: %v", err)
			}
		})
	}
	// Ctrl-C during a load: exit 130, the graph answers as before.
	src := filepath.Join(dir, "extra.jsonl")
	os.WriteFile(src, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"snapshot-probe","props":{"status":"active"}}`+"\n"), 0o600)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := Run(cancelled, []string{"load", "graph", "--from", src, "--graph", db}, &out, &errb); code != 130 {
		t.Fatalf("interrupted load: exit %d, want 130: %s", code, errb.String())
	}
	if code, got, errs := run(t, "ask", "--graph", db, "--format", "csv", "bots"); code != 0 || strings.Contains(got, "snapshot-probe") {
		t.Fatalf("interrupted load changed the graph: exit %d %s\n%s", code, errs, got)
	}
	// A load that adds a source moves the generation: the next ask sees it.
	if code, _, errs := run(t, "load", "graph", "--from", src, "--graph", db); code != 0 {
		t.Fatalf("load: %s", errs)
	}
	code, got, errs := run(t, "ask", "--graph", db, "--format", "csv", "bots")
	if code != 0 || !strings.Contains(got, "snapshot-probe") {
		t.Fatalf("after load: exit %d %s\n%s", code, errs, got)
	}
}
