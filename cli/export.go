package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graphml"
	"github.com/steward-oss/steward/opengraph"
)

func init() {
	register(command{"export", "write the stored graph: JSON lines, BloodHound OpenGraph or GraphML", runExport})
}

func runExport(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, false)
	var format string
	fs.StringVar(&format, "format", "jsonl", "output format: jsonl (steward load graph), opengraph (BloodHound CE; steward load opengraph) or graphml (Neo4j apoc.import.graphml)")
	fs.StringVar(&format, "o", "jsonl", "shorthand for --format")
	fs.StringVar(&format, "output", "jsonl", "same as --format")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	write, ok := map[string]func(io.Writer, []*graph.Subgraph) error{
		"jsonl": graph.WriteJSONL, "opengraph": opengraph.Write, "graphml": graphml.Write}[format]
	if !ok {
		return usageErr(e, "export", fmt.Sprintf("--format must be jsonl, opengraph or graphml, got %q", format))
	}
	if err := g.validate(); err != nil {
		return usageErr(e, "export", err.Error())
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "export", err)
	}
	defer inv.Close()
	if err := write(e.stdout, inv.Subgraphs()); err != nil {
		return fail(e, "export", err)
	}
	return ExitOK
}
