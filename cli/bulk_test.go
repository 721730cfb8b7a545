package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// cancelAfter is a context whose Err turns to Canceled after n calls:
// Ctrl-C arriving in the middle of a write, at a deterministic point.
type cancelAfter struct {
	context.Context
	n     int32
	calls atomic.Int32
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) > c.n {
		return context.Canceled
	}
	return nil
}

// TestDemoInterruptedKeepsGraph: Ctrl-C part way through demo --out's
// bulk write exits 130 and leaves the previous graph answering exactly as
// before, whichever check of the context sees it first.
func TestDemoInterruptedKeepsGraph(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	if code, _, errs := run(t, "demo", "--size", "300", "--seed", "7", "--out", db); code != 0 {
		t.Fatalf("demo: %s", errs)
	}
	_, want, _ := run(t, "export", "--graph", db)
	interrupted := 0
	for _, n := range []int32{0, 3, 10, 25} {
		ctx := &cancelAfter{Context: context.Background(), n: n}
		var out, errb bytes.Buffer
		code := Run(ctx, []string{"demo", "--size", "500", "--seed", "8", "--out", db}, &out, &errb)
		if code == 0 {
			continue // the write finished before the n-th check
		}
		if code != exitInterrupted {
			t.Fatalf("after %d checks: exit %d, want %d: %s", n, code, exitInterrupted, errb.String())
		}
		if code, got, errs := run(t, "export", "--graph", db); code != 0 || got != want {
			t.Fatalf("interrupted demo (after %d checks) changed the graph: exit %d %s", n, code, errs)
		}
		interrupted++
	}
	if interrupted == 0 {
		t.Fatal("no demo was interrupted")
	}
}
