package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"

	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/all" // every connector registers itself
	"github.com/steward-oss/steward/connectors/graphfile"
	"github.com/steward-oss/steward/graph/store"
)

// exitInterrupted is the exit status after Ctrl-C (128 + SIGINT).
const exitInterrupted = 130

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
	if gr, ok := r.(*graphfile.Reader); ok {
		gr.Progress = func(read, size int64) { p.update("reading: %s", eta(read>>20, size>>20, "MiB", start)) }
	}
	// Every load is audited, and the log is opened first: a load that
	// could not be recorded does not happen.
	// The log is STEWARD_AUDIT_LOG or the config's audit_log:, else
	// steward-audit.log beside a bolt graph. (No flag: connectors own
	// load's flag names, and k8s has an --audit-log of its own.)
	var auditLog string
	if e.configPath == "" && e.getenv("STEWARD_AUDIT_LOG") == "" && !strings.Contains(*graphPath, "://") {
		auditLog = filepath.Join(filepath.Dir(*graphPath), filepath.Base(DefaultAuditLog))
	} else if auditLog, err = e.defaultAuditLog(); err != nil {
		return usageErr(e, "load", err.Error())
	}
	alog, err := openAuditPath(e, auditLog)
	if err != nil {
		return fail(e, "load", err)
	}
	defer alog.Close()
	p.update("reading")
	sgs, err := r.Read(ctx)
	if err == nil {
		var st *store.Store
		if st, err = store.Open(ctx, *graphPath); err == nil {
			defer st.Close()
			p.update("writing %d source(s)", len(sgs))
			before, gerr := st.Generation(ctx)
			if gerr != nil {
				before = -1
			}
			// The store validates and replaces every source in one
			// transaction: a bad read never reaches it, a failed write
			// leaves it as it was.
			// A full load (the graph connector) or a source's first load
			// goes through the bulk path: batched into a fresh file,
			// swapped in whole. A reload writes only the difference.
			if name == "graph" || !storedAny(ctx, st, sgs) {
				err = bulkReplace(ctx, st, sgs, p)
			} else {
				err = st.Replace(ctx, sgs...)
			}
			if err == nil {
				p.update("indexing")
				writeSnapshot(ctx, e, st, DefaultOwners, sgs, before, 1)
			}
		}
	}
	p.done()
	// An interrupted load is recorded too: the record is written after
	// Ctrl-C, so it must not inherit the cancellation.
	if aerr := auditLoad(context.WithoutCancel(ctx), alog, name, *graphPath, sgs, err, start); aerr != nil {
		return fail(e, "load", aerr)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(e.stderr, "steward load: interrupted; %s is unchanged\n", *graphPath)
			return exitInterrupted
		}
		return fail(e, "load", err)
	}
	for _, sg := range sgs {
		fmt.Fprintf(e.stderr, "loaded %s: %d nodes, %d edges\n", sg.Source, len(sg.Nodes), len(sg.Edges))
	}
	fmt.Fprintf(e.stderr, "done in %s (%s)\n", time.Since(start).Round(time.Millisecond), *graphPath)
	return ExitOK
}

// auditLoad records one load: who, which connector, the sources and
// counts it wrote, or why it failed.
func auditLoad(ctx context.Context, alog *audit.Log, name, graphPath string, sgs []*graph.Subgraph, lerr error, start time.Time) error {
	rec := audit.Record{Time: start, Actor: "cli:" + os.Getenv("USER"), Action: audit.ActionLoad, Target: name, Where: audit.WhereCLI,
		Outcome: "loaded", Details: map[string]string{"graph": graphPath, "duration": time.Since(start).Round(time.Millisecond).String()}}
	if lerr != nil {
		rec.Outcome, rec.Details["error"] = "failed", lerr.Error()
	} else {
		var srcs []string
		nodes, edges := 0, 0
		for _, sg := range sgs {
			srcs = append(srcs, sg.Source)
			nodes, edges = nodes+len(sg.Nodes), edges+len(sg.Edges)
		}
		rec.Details["sources"], rec.Details["nodes"], rec.Details["edges"] = strings.Join(srcs, ","), strconv.Itoa(nodes), strconv.Itoa(edges)
	}
	_, err := alog.Append(ctx, audit.MaskRecord(rec))
	return err
}

// storedAny reports whether st holds any of the sources of sgs (or cannot
// tell).
func storedAny(ctx context.Context, st *store.Store, sgs []*graph.Subgraph) bool {
	srcs, err := st.Sources(ctx)
	if err != nil {
		return true
	}
	have := map[string]bool{}
	for _, si := range srcs {
		have[si.Source] = true
	}
	for _, sg := range sgs {
		if have[sg.Source] {
			return true
		}
	}
	return false
}

// bulkReplace replaces the sources of sgs through the store's bulk path,
// all at once, showing the write rate on a terminal.
func bulkReplace(ctx context.Context, st *store.Store, sgs []*graph.Subgraph, p *progress) error {
	w, err := st.BeginBulk(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	total := 0
	for _, sg := range sgs {
		total += len(sg.Nodes) + len(sg.Edges)
	}
	// The quads of the nodes and edges encoded so far, scaled to all of
	// them, estimate the quads of the whole load.
	w.OnBatch = func(quads int) {
		eq, items := w.Encoded()
		est := int64(eq) * int64(total) / int64(max(items, 1))
		p.update("writing: %s", eta(int64(quads), est, "quads", start))
	}
	for _, sg := range sgs {
		if err := w.Add(sg); err != nil {
			return err
		}
	}
	p.update("committing")
	return w.Commit()
}

// rate formats a write count and its rate since start.
func rate(quads int, start time.Time) string {
	s := time.Since(start).Seconds()
	if s <= 0 {
		s = 1e-3
	}
	return fmt.Sprintf("%d quads, %.0f quads/s, %s", quads, float64(quads)/s, time.Since(start).Round(time.Second))
}
