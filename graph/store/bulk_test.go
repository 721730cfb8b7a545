package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
)

// bulk runs one bulk load of sgs into s.
func bulk(t testing.TB, s *Store, sgs ...*graph.Subgraph) error {
	t.Helper()
	w, err := s.BeginBulk(context.Background())
	if err != nil {
		return err
	}
	for _, sg := range sgs {
		if err := w.Add(sg); err != nil {
			return err
		}
	}
	return w.Commit()
}

// TestBulk: a bulk load replaces the added sources, keeps the others as
// they were, moves the generation by one, and gives back exactly what a
// Replace of the same sources gives, on every backend without a server.
func TestBulk(t *testing.T) {
	prev, next := crashGraphs(t)
	for _, backend := range []string{"memory", "bolt"} {
		t.Run(backend, func(t *testing.T) {
			uri := "memory"
			if backend == "bolt" {
				uri = "bolt:" + filepath.Join(t.TempDir(), "db")
			}
			s := mustOpen(t, uri)
			s.now = fixedNow
			if err := s.Replace(context.Background(), prev...); err != nil {
				t.Fatal(err)
			}
			before := snap(t, s)
			if err := bulk(t, s, next...); err != nil {
				t.Fatalf("bulk: %v", err)
			}
			after := snap(t, s)
			wantNext := []*graph.Subgraph{want(next[0]), want(next[1]), want(prev[1])}
			if d := diffGraphs(after.graphs, wantNext); d != "" {
				t.Fatalf("after bulk: %s", d)
			}
			if after.gen != before.gen+1 {
				t.Fatalf("generation %d, want %d", after.gen, before.gen+1)
			}
			// The kept source's metadata is unchanged.
			for _, si := range after.sources {
				if si.Source == "k8s:prod" && fmt.Sprint(si) != fmt.Sprint(before.sources[1]) {
					t.Fatalf("kept source info %v, want %v", si, before.sources[1])
				}
			}
			// A diff-only Replace still works on the bulk-written store.
			if err := s.Replace(context.Background(), prev[0]); err != nil {
				t.Fatal(err)
			}
			if d := diffGraphs(snap(t, s).graphs, []*graph.Subgraph{want(prev[0]), want(next[1]), want(prev[1])}); d != "" {
				t.Fatalf("Replace after bulk: %s", d)
			}
			if backend == "bolt" {
				ents, _ := os.ReadDir(filepath.Dir(s.b.(*boltBackend).path))
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), bulkTmpPrefix) {
						t.Fatalf("bulk left %s behind", e.Name())
					}
				}
			}
		})
	}
}

// TestBulkBadInput: a subgraph that fails validation aborts the bulk
// load, and the store is as it was.
func TestBulkBadInput(t *testing.T) {
	prev, next := crashGraphs(t)
	s := mustOpen(t, "bolt:"+filepath.Join(t.TempDir(), "db"))
	if err := s.Replace(context.Background(), prev...); err != nil {
		t.Fatal(err)
	}
	before := snap(t, s)
	bad := &graph.Subgraph{Source: "bad", Nodes: []graph.Node{{ID: "x", Kind: "user", Name: "nul\x00"}}}
	if err := bulk(t, s, next[0], bad); err == nil {
		t.Fatal("bulk of a bad subgraph succeeded")
	}
	if d := diffSnapshot(snap(t, s), before); d != "" {
		t.Fatalf("after a failed bulk: %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := s.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(next[0]); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := w.Commit(); err == nil {
		t.Fatal("commit after cancel succeeded")
	}
	if d := diffSnapshot(snap(t, s), before); d != "" {
		t.Fatalf("after a cancelled bulk: %s", d)
	}
}

const envBulkCrash = "STORE_BULK_CRASH"

// TestCrashDuringBulk SIGKILLs a bulk load between batches, just before
// and just after its rename: the store holds the previous graph (or,
// after the rename, exactly the next one) and opens cleanly.
func TestCrashDuringBulk(t *testing.T) {
	if point := os.Getenv(envBulkCrash); point != "" {
		bulkCrashChild(t, os.Getenv(envCrashDir), point)
		return
	}
	if testing.Short() {
		t.Skip("crash test re-runs the test binary; skipped in -short mode")
	}
	ctx := context.Background()
	prev, next := crashGraphs(t)
	wantPrev := []*graph.Subgraph{want(prev[0]), want(prev[1])}
	wantNext := []*graph.Subgraph{want(next[0]), want(next[1]), want(prev[1])}
	for _, tc := range []struct {
		point string
		next  bool
	}{{"batch:1", false}, {"synced", false}, {"renamed", true}} {
		t.Run(tc.point, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			s, err := Open(ctx, "bolt:"+dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Replace(ctx, prev...); err != nil {
				t.Fatal(err)
			}
			before := snap(t, s)
			s.Close()

			runChild(t, "^TestCrashDuringBulk$", []string{envCrashDir + "=" + dir, envBulkCrash + "=" + tc.point}, tc.point)

			if err := boltCheck(filepath.Join(dir, boltFile)); err != nil {
				t.Fatalf("bolt file inconsistent after the kill: %v", err)
			}
			s2 := mustOpen(t, "bolt:"+dir)
			after := snap(t, s2)
			if tc.next {
				if d := diffGraphs(after.graphs, wantNext); d != "" || after.gen != before.gen+1 {
					t.Fatalf("after a kill past the rename: generation %d (want %d), %s", after.gen, before.gen+1, d)
				}
			} else {
				if d := diffGraphs(after.graphs, wantPrev); d != "" {
					t.Fatalf("after the kill the store is not the previous graph: %s", d)
				}
				if d := diffSnapshot(after, before); d != "" {
					t.Fatalf("after the kill: %s", d)
				}
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), bulkTmpPrefix) {
					t.Fatalf("open left the killed load's %s", e.Name())
				}
			}
			if err := bulk(t, s2, next...); err != nil {
				t.Fatalf("bulk after the crash: %v", err)
			}
			if d := diffGraphs(snap(t, s2).graphs, wantNext); d != "" {
				t.Fatalf("bulk after the crash: %s", d)
			}
		})
	}
}

// runChild re-runs the test binary with env and SIGKILLs it once it
// signals point on fd 3.
func runChild(t *testing.T, run string, env []string, point string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.v")
	cmd.Env = append(os.Environ(), env...)
	killAt(t, cmd, point)
}

func bulkCrashChild(t *testing.T, dir, point string) {
	sig := os.NewFile(3, "crash-signal")
	bulkTestHook = func(p string) {
		if p == point {
			fmt.Fprintf(sig, "at %s\n", point)
			io.Copy(io.Discard, os.Stdin)
			t.Fatal("crash child: stdin closed before the kill")
		}
	}
	s, err := Open(context.Background(), "bolt:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	_, next := crashGraphs(t)
	bulkBatch = 5000 // several batches
	err = bulk(t, s, next...)
	t.Fatalf("crash child: bulk returned (%v) without reaching %q", err, point)
}
