package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/store"
	"github.com/steward-oss/steward/internal/demo"
)

func init() {
	register(command{"demo", "write the demo organisation to a graph store", runDemo})
}

// maxSnapshotDemo is the largest demo whose index snapshot demo --out
// builds: the index is still built in memory from every subgraph.
const maxSnapshotDemo = 200_000

func runDemo(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	size := fs.Int("size", defaultDemoSize, "number of non-human identities")
	seed := fs.Int64("seed", defaultDemoSeed, "generator seed")
	out := fs.String("out", "", "graph store to write: a bolt file path or postgres://...")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if *out == "" {
		return usageErr(e, "demo", "--out PATH is required")
	}
	if *size <= 0 {
		return usageErr(e, "demo", "--size must be positive")
	}
	st, err := store.Open(ctx, *out)
	if err != nil {
		return fail(e, "demo", err)
	}
	defer st.Close()
	start := time.Now()
	p := newProgress(e, "demo")
	nodes, edges := 0, 0
	before, err := st.Generation(ctx)
	if err != nil {
		before = -1
	}
	// Written sources are kept to build the index snapshot at the end
	// without reading the store back.
	var written []*graph.Subgraph
	// One source at a time keeps memory bounded at 1M identities. On
	// bolt every source streams into one fresh file that replaces the
	// store at the end, all or nothing; elsewhere each source replaces
	// atomically.
	var bulk *store.Bulk
	if st.Streams() {
		if bulk, err = st.BeginBulk(ctx); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(e.stderr, "steward demo: interrupted; %s is unchanged\n", *out)
				return exitInterrupted
			}
			return fail(e, "demo", err)
		}
		defer bulk.Abort()
	}
	// Sources differ in size but not wildly (each cloud account, project
	// or cluster holds at most a few tens of thousands of identities), so
	// the share of sources written is the progress.
	srcDone, srcTotal := 0, 0
	if bulk != nil {
		bulk.OnBatch = func(quads int) {
			p.update("%s; %d nodes, %d edges, %s", eta(int64(srcDone), int64(srcTotal), "sources", start), nodes, edges, rate(quads, start))
		}
	}
	err = demo.StreamCounted(demo.Config{Seed: *seed, Size: *size}, func(sg *graph.Subgraph, i, n int) error {
		srcDone, srcTotal = i, n
		if bulk != nil {
			if err := bulk.Add(sg); err != nil {
				return err
			}
		} else if err := st.Replace(ctx, sg); err != nil {
			return err
		}
		if *size <= maxSnapshotDemo {
			written = append(written, sg)
		}
		nodes += len(sg.Nodes)
		edges += len(sg.Edges)
		p.update("%s; %d nodes, %d edges so far", eta(int64(i+1), int64(n), "sources", start), nodes, edges)
		return nil
	})
	if err == nil && bulk != nil {
		p.update("committing")
		err = bulk.Commit()
	}
	p.done()
	if err != nil {
		if ctx.Err() != nil && bulk != nil {
			fmt.Fprintf(e.stderr, "steward demo: interrupted; %s is unchanged\n", *out)
			return exitInterrupted
		}
		if ctx.Err() != nil {
			// Each source is replaced whole: those written so far stay,
			// the one being written when interrupted is as it was.
			fmt.Fprintf(e.stderr, "steward demo: interrupted after %d nodes; every source of %s is either as it was or fully written\n", nodes, *out)
			return exitInterrupted
		}
		return fail(e, "demo", err)
	}
	if *size <= maxSnapshotDemo {
		p.update("indexing")
		writes := len(written)
		if bulk != nil {
			writes = 1
		}
		writeSnapshot(ctx, e, st, DefaultOwners, written, before, writes)
		p.done()
	} else {
		fmt.Fprintf(e.stderr, "index snapshot not written above %d identities (the index is built in memory); the first question builds it\n", maxSnapshotDemo)
	}
	fmt.Fprintf(e.stderr, "wrote demo (seed %d, size %d): %d nodes, %d edges to %s in %s\n",
		*seed, *size, nodes, edges, *out, time.Since(start).Round(time.Millisecond))
	return ExitOK
}
