package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// ServeQuestions are the README quick start's questions: the ones `serve`
// is measured on, one at a time, over an opened snapshot.
var ServeQuestions = []string{
	"admins idle 30 days",
	"service accounts with no owner",
	"identities whose owner left",
	"keys older than 90 days",
	"what can ci-deployer access",
	"who can read secrets cluster-wide",
	"credentials expiring in 14 days",
	"count identities by source",
	"leaked keys still active",
}

var (
	snapFile = flag.String("snapfile", "", "BenchmarkSnapshotFile: snapshot file to open (written from the demo first when missing)")
	snapSize = flag.Int("snapsize", 1_000_000, "BenchmarkSnapshotFile: demo size written when -snapfile is missing")
)

// BenchmarkSnapshotFile measures the read side at sizes the cayley stores
// cannot yet hold on this machine: when -snapfile is missing it generates
// the demo into a graph.Builder, writes the snapshot (reporting the build's
// peak RSS); otherwise it maps the file as `steward ask` and `serve` do,
// reports the open time, and answers each README question (median of 5,
// as `serve` would with the index already open). Run it as its own process
// under /usr/bin/time -v for the fresh-process wall time and peak RSS:
//
//	go test -run X -bench SnapshotFile -benchtime 1x ./internal/bench/ -snapfile /tmp/g1m.snap
func BenchmarkSnapshotFile(b *testing.B) {
	if *snapFile == "" {
		b.Skip("needs -snapfile")
	}
	ctx := context.Background()
	if _, err := os.Stat(*snapFile); os.IsNotExist(err) {
		// Streamed into the builder one source at a time, as demo --out
		// does: no subgraph outlives its Add.
		t0 := time.Now()
		bld := graph.NewBuilder()
		if err := demo.Stream(demo.Config{Seed: 1, Size: *snapSize}, func(sg *graph.Subgraph) error {
			bld.Add(sg)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		ix := bld.Index()
		build := time.Since(t0)
		f, err := os.Create(*snapFile)
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.WriteSnapshot(f, graph.SnapshotTag{Generation: 1}); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("size %d: generate + build %s, %d nodes %d edges; write %s; peak RSS %.0f MiB",
			*snapSize, build.Round(time.Millisecond), ix.NumNodes(), ix.NumEdges(), time.Since(t0).Round(time.Millisecond), float64(peakRSS())/(1<<20))
		return
	}
	f, err := os.Open(*snapFile)
	if err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	ix, _, err := graph.OpenSnapshot(data)
	if err != nil {
		b.Fatal(err)
	}
	open := time.Since(t0)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d nodes %d edges; open %s, heap after open %.0f MiB\n", ix.NumNodes(), ix.NumEdges(), open.Round(time.Millisecond), float64(ms.HeapAlloc)/(1<<20))
	for i, q := range ServeQuestions {
		p, err := planner.Plan(q, nil)
		if err != nil {
			b.Fatalf("plan %q: %v", q, err)
		}
		rows := 0
		var first time.Duration
		med := median(5, func() {
			t := time.Now()
			res, err := query.Execute(ctx, ix, p, demo.Reference)
			if err != nil {
				b.Fatalf("%q: %v", q, err)
			}
			if first == 0 {
				first = time.Since(t)
			}
			rows = res.Total
		})
		if i == 0 {
			fmt.Fprintf(&sb, "first question (as a fresh `ask` pays): open + %s = %s\n", first.Round(time.Millisecond), (open + first).Round(time.Millisecond))
		}
		fmt.Fprintf(&sb, "  %-36q %8d rows  p50 %s\n", q, rows, med.Round(time.Microsecond))
	}
	fmt.Fprintf(&sb, "peak RSS %.0f MiB", float64(peakRSS())/(1<<20))
	b.Log(sb.String())
}
