package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	hkv "github.com/hidal-go/hidalgo/kv"
	"github.com/steward-oss/steward/graph"
	bolt "go.etcd.io/bbolt"
)

// The crash test re-runs this test binary as a child that starts a big
// Replace on a bolt store and is SIGKILLed at a chosen point of the write.
// The child tells the parent it reached that point through a pipe (fd 3)
// and then blocks on stdin, so the kill always lands there: no sleeps.
const (
	envCrashDir   = "STORE_CRASH_DIR"
	envCrashPoint = "STORE_CRASH_POINT"
)

// crashGraphs are the graph stored before the crash (prev) and the one
// the killed Replace was writing (next): aws:1 is rewritten entirely, so
// the write both adds and deletes tens of thousands of quads; k8s:prod is
// untouched; gcp:p is new.
func crashGraphs(t testing.TB) (prev, next []*graph.Subgraph) {
	aws1, _ := benchGraph(t, "aws:1", 10000)
	aws2, _ := benchGraph(t, "aws:1", 15000)
	for i := range aws2.Nodes {
		aws2.Nodes[i].Name += "-v2" // every node changes, every edge stays
	}
	aws2.Edges = aws2.Edges[:len(aws2.Edges)/2]
	k8s := newGen(51).subgraph("k8s:prod", 100)
	gcp := newGen(52).subgraph("gcp:p", 100)
	return []*graph.Subgraph{aws1, k8s}, []*graph.Subgraph{aws2, gcp}
}

func TestCrashDuringReplace(t *testing.T) {
	if dir := os.Getenv(envCrashDir); dir != "" {
		crashChild(t, dir, os.Getenv(envCrashPoint))
		return
	}
	if testing.Short() {
		t.Skip("crash test re-runs the test binary; skipped in -short mode")
	}
	ctx := context.Background()
	prev, next := crashGraphs(t)
	wantPrev := make([]*graph.Subgraph, 0, len(prev))
	for _, sg := range []*graph.Subgraph{prev[0], prev[1]} {
		wantPrev = append(wantPrev, want(sg))
	}
	wantNext := []*graph.Subgraph{want(next[0]), want(next[1]), want(prev[1])} // aws:1, gcp:p, k8s:prod

	tests := []struct {
		name  string
		point string
		// mayCommit: the kill races the commit itself, so either state is
		// correct, but nothing in between.
		mayCommit bool
	}{
		{name: "early in the adds", point: "put:500"},
		{name: "late in the adds", point: "put:12000"},
		{name: "after all adds, in the deletes", point: "del:1"},
		{name: "inside commit", point: "commit", mayCommit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			s, err := Open(ctx, "bolt:"+dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Replace(ctx, prev...); err != nil {
				t.Fatal(err)
			}
			before := snap(t, s)
			if d := diffGraphs(before.graphs, wantPrev); d != "" {
				t.Fatalf("setup: %s", d)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			runCrashChild(t, dir, tc.point)

			if err := boltCheck(filepath.Join(dir, boltFile)); err != nil {
				t.Fatalf("bolt file inconsistent after the kill: %v", err)
			}
			s2 := mustOpen(t, "bolt:"+dir)
			after := snap(t, s2)
			if d := diffSnapshot(after, before); d != "" {
				if !tc.mayCommit {
					t.Fatalf("after the kill the store is not the previous graph: %s", d)
				}
				if d2 := diffGraphs(after.graphs, wantNext); d2 != "" || after.gen != before.gen+1 {
					t.Fatalf("after a kill during commit the store is neither the previous graph (%s) nor the next (generation %d, %s)", d, after.gen, d2)
				}
				t.Logf("the commit finished before the kill; the store holds exactly the next graph")
			}
			// The store is still healthy: the interrupted write can be redone.
			if err := s2.Replace(ctx, next...); err != nil {
				t.Fatalf("Replace after the crash: %v", err)
			}
			if d := diffGraphs(snap(t, s2).graphs, wantNext); d != "" {
				t.Fatalf("Replace after the crash: %s", d)
			}
		})
	}
}

// runCrashChild starts the child, waits for its signal and kills it.
func runCrashChild(t *testing.T, dir, point string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringReplace$", "-test.v")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashPoint+"="+point)
	killAt(t, cmd, point)
}

// killAt starts cmd, waits for it to signal "at point" on fd 3 and
// SIGKILLs it there.
func killAt(t *testing.T, cmd *exec.Cmd, point string) {
	t.Helper()
	sigR, sigW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer sigR.Close()
	cmd.ExtraFiles = []*os.File{sigW}
	stdin, err := cmd.StdinPipe() // held open: the child blocks reading it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sigW.Close()
	line, err := bufio.NewReader(sigR).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child never reached %q (%v); output:\n%s", point, err, out.String())
	}
	if strings.TrimSpace(line) != "at "+point {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child signalled %q, want %q; output:\n%s", line, "at "+point, out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL; output:\n%s", err, out.String())
	}
}

// crashChild runs in the child process: it opens the store over a KV that
// stops at point and writes the next graphs.
func crashChild(t *testing.T, dir, point string) {
	sig := os.NewFile(3, "crash-signal")
	if sig == nil {
		t.Fatal("crash child: no signal pipe on fd 3")
	}
	kind, nStr, _ := strings.Cut(point, ":")
	n, _ := strconv.Atoi(nStr)
	db, err := bolt.Open(filepath.Join(dir, boltFile), 0o600, &bolt.Options{Timeout: boltLockTimeout})
	if err != nil {
		t.Fatal(err)
	}
	var f *faultKV
	stop := func() {
		if kind == "put" && f.dels > 0 {
			t.Fatalf("crash child: %q reached after the deletes began; choose an earlier put", point)
		}
		fmt.Fprintf(sig, "at %s\n", point)
		io.Copy(io.Discard, os.Stdin) // until the parent kills us
		t.Fatal("crash child: stdin closed before the kill")
	}
	f = &faultKV{KV: &boltKV{db: db}, kind: kind, n: n, stop: stop}
	b, err := openKV(f)
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{b: b, now: fixedNow}
	_, next := crashGraphs(t)
	err = s.Replace(context.Background(), next...)
	t.Fatalf("crash child: Replace returned (%v) without reaching %q after %d puts and %d dels", err, point, f.puts, f.dels)
}

func fixedNow() time.Time { return benchTime }

// faultKV counts the writes of read-write transactions and calls stop at
// the chosen one: the n-th Put, the n-th Del, or the start of Commit.
type faultKV struct {
	hkv.KV
	kind       string
	n          int
	puts, dels int
	stop       func()
}

func (f *faultKV) Tx(rw bool) (hkv.Tx, error) {
	tx, err := f.KV.Tx(rw)
	if err != nil || !rw {
		return tx, err
	}
	return &faultTx{Tx: tx, f: f}, nil
}

type faultTx struct {
	hkv.Tx
	f *faultKV
}

func (tx *faultTx) Put(k hkv.Key, v hkv.Value) error {
	if tx.f.puts++; tx.f.kind == "put" && tx.f.puts == tx.f.n {
		tx.f.stop()
	}
	return tx.Tx.Put(k, v)
}

func (tx *faultTx) Del(k hkv.Key) error {
	if tx.f.dels++; tx.f.kind == "del" && tx.f.dels == tx.f.n {
		tx.f.stop()
	}
	return tx.Tx.Del(k)
}

func (tx *faultTx) Commit(ctx context.Context) error {
	if tx.f.kind == "commit" {
		// Signal first, then commit at once: the parent's SIGKILL races
		// the page writes and fsyncs of bolt's commit.
		fmt.Fprintf(os.NewFile(3, "crash-signal"), "at commit\n")
		err := tx.Tx.Commit(ctx)
		io.Copy(io.Discard, os.Stdin)
		return err
	}
	return tx.Tx.Commit(ctx)
}

// boltCheck runs bolt's own consistency check over the file.
func boltCheck(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: boltLockTimeout, ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}
