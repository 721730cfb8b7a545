package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/all" // every connector registers itself
	"github.com/steward-oss/steward/graph/store"
)

func init() {
	register(command{"load", "load a source into the graph (steward load NAME -h for its flags)", runLoad})
}

func runLoad(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(e.stderr, "Usage: steward load NAME [flags] [--graph PATH]\n\nConnectors: %s\n", strings.Join(connectors.Names(), ", "))
		return ExitUsage
	}
	name := args[0]
	reg, ok := connectors.Lookup(name)
	if !ok {
		return usageErr(e, "load", fmt.Sprintf("unknown connector %q (known: %s)", name, strings.Join(connectors.Names(), ", ")))
	}
	fs := flag.NewFlagSet("load "+name, flag.ContinueOnError)
	graphPath := fs.String("graph", "", "graph store: a bolt file path or postgres://... (default: STEWARD_GRAPH, the config's graph:, else "+DefaultGraph+")")
	vals := map[string]*string{}
	bools := map[string]*bool{}
	for _, o := range reg.Options {
		if o.Bool {
			bools[o.Name] = fs.Bool(o.Name, false, o.Usage)
		} else {
			vals[o.Name] = fs.String(o.Name, "", o.Usage)
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: steward load %s [flags]\n%s\n\nFlags:\n", name, reg.Summary)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageErr(e, "load", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	opts := connectors.Options{}
	for k, v := range vals {
		if *v != "" {
			opts[k] = *v
		}
	}
	for k, v := range bools {
		if *v {
			opts[k] = "true"
		}
	}
	if *graphPath == "" {
		def, err := e.defaultGraph()
		if err != nil {
			return usageErr(e, "load", err.Error())
		}
		*graphPath = def
	}
	r, err := connectors.New(name, opts, connectors.Env{Logger: e.log, ReadFile: os.ReadFile})
	if err != nil {
		return usageErr(e, "load", err.Error())
	}
	start := time.Now()
	p := newProgress(e, "load "+name)
	p.update("reading")
	sgs, err := r.Read(ctx)
	if err != nil {
		p.done()
		return fail(e, "load", err)
	}
	st, err := store.Open(ctx, *graphPath)
	if err != nil {
		p.done()
		return fail(e, "load", err)
	}
	defer st.Close()
	p.update("writing %d source(s)", len(sgs))
	// The store validates and replaces every source in one transaction:
	// a bad read never reaches it, a failed write leaves it as it was.
	if err := st.Replace(ctx, sgs...); err != nil {
		p.done()
		return fail(e, "load", err)
	}
	p.done()
	for _, sg := range sgs {
		fmt.Fprintf(e.stderr, "loaded %s: %d nodes, %d edges\n", sg.Source, len(sg.Nodes), len(sg.Edges))
	}
	fmt.Fprintf(e.stderr, "done in %s (%s)\n", time.Since(start).Round(time.Millisecond), *graphPath)
	return ExitOK
}
