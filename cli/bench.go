package cli

import (
	"context"
	"flag"

	"github.com/steward-oss/steward/bench"
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
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if *size <= 0 || *reps <= 0 {
		return usageErr(e, "bench", "--size and --reps must be positive")
	}
	r, err := bench.Run(ctx, *size, *seed, *storeURI, *reps)
	if err != nil {
		return fail(e, "bench", err)
	}
	r.Print(e.stdout)
	return ExitOK
}
