package cli

import (
	"context"
	"database/sql"
	"flag"
	"os"

	"github.com/steward-oss/steward/internal/bench"
)

func init() {
	register(command{"bench", "measure load rate, memory and question latency on the demo", runBench})
}

func runBench(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	size := fs.Int("size", 100_000, "demo size in identities")
	seed := fs.Int64("seed", defaultDemoSeed, "demo seed")
	storeURI := fs.String("store", "memory", "store to load into: memory, a bolt path, or none (index only)")
	reps := fs.Int("reps", 5, "timed repetitions per question (median reported)")
	pgURL := fs.String("pg", "", "PostgreSQL URL for the SQL baseline (node/edge tables, COPY + indexes, recursive SQL)")
	askGraph := fs.String("ask-graph", "", "stored graph holding the same demo (steward demo --out): time `steward ask` on it as fresh processes")
	bulk := fs.Bool("bulk", false, "also time `steward load graph` of the demo's export and `steward demo --out` as fresh processes into empty bolt stores (wall, peak RSS; ratio to PostgreSQL COPY + indexes with --pg)")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if *size <= 0 || *reps <= 0 {
		return usageErr(e, "bench", "--size and --reps must be positive")
	}
	o := bench.Options{Size: *size, Seed: *seed, StoreURI: *storeURI, Reps: *reps, AskGraph: *askGraph, Bulk: *bulk}
	if *askGraph != "" || *bulk {
		exe, err := os.Executable()
		if err != nil {
			return fail(e, "bench", err)
		}
		o.Steward = exe
	}
	if *pgURL != "" {
		db, err := sql.Open("postgres", *pgURL)
		if err != nil {
			return fail(e, "bench", err)
		}
		defer db.Close()
		o.SQL = db
	}
	r, err := bench.RunWith(ctx, o)
	if err != nil {
		return fail(e, "bench", err)
	}
	r.Print(e.stdout)
	return ExitOK
}
