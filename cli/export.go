package cli

import (
	"context"
	"flag"

	"github.com/steward-oss/steward/graph"
)

func init() {
	register(command{"export", "write the stored graph as JSON lines", runExport})
}

func runExport(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, false)
	format := fs.String("format", "jsonl", "output format (jsonl)")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if *format != "jsonl" {
		return usageErr(e, "export", "--format must be jsonl")
	}
	if err := g.validate(); err != nil {
		return usageErr(e, "export", err.Error())
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "export", err)
	}
	defer inv.Close()
	if err := graph.WriteJSONL(e.stdout, inv.Subgraphs()); err != nil {
		return fail(e, "export", err)
	}
	return ExitOK
}
