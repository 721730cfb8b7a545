package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/steward-oss/steward/demo"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/store"
)

func init() {
	register(command{"demo", "write the demo organisation to a graph store", runDemo})
}

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
	// One source at a time keeps memory bounded at 1M identities; each
	// source replaces atomically.
	err = demo.Stream(demo.Config{Seed: *seed, Size: *size}, func(sg *graph.Subgraph) error {
		if err := st.Replace(ctx, sg); err != nil {
			return err
		}
		nodes += len(sg.Nodes)
		edges += len(sg.Edges)
		p.update("%s: %d nodes, %d edges so far", sg.Source, nodes, edges)
		return nil
	})
	p.done()
	if err != nil {
		return fail(e, "demo", err)
	}
	fmt.Fprintf(e.stderr, "wrote demo (seed %d, size %d): %d nodes, %d edges to %s in %s\n",
		*seed, *size, nodes, edges, *out, time.Since(start).Round(time.Millisecond))
	return ExitOK
}
