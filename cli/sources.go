package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph/store"
)

func init() {
	register(command{"sources", "list the loaded sources: node and edge counts, when loaded, the last sync error", runSources})
}

// sourceRow is one line of `steward sources`; its JSON is a contract,
// fields are only added.
type sourceRow struct {
	Source    string     `json:"source"`
	Connector string     `json:"connector,omitempty"`
	Nodes     int        `json:"nodes"`
	Edges     int        `json:"edges"`
	LoadedAt  *time.Time `json:"loaded_at,omitempty"`
	LastSync  *time.Time `json:"last_sync,omitempty"`
	LastError string     `json:"last_error,omitempty"`
}

func runSources(ctx context.Context, e *env, args []string) int {
	fset := flag.NewFlagSet("sources", flag.ContinueOnError)
	graphPath := fset.String("graph", "", "graph store (default: STEWARD_GRAPH, the config's graph:, else "+DefaultGraph+")")
	logPath := fset.String("log", "", "audit log holding the sync runs (default: STEWARD_AUDIT_LOG, the config's audit_log:, else "+DefaultAuditLog+")")
	var out outputFlags
	out.register(fset)
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: steward sources [--graph PATH] [--log AUDIT_LOG] [-o table|json|csv|yaml]\n\nSources in the graph store with their node and edge counts and load time;\nthe connector that last synced each and its error when that sync failed (from the audit log).")
		fset.PrintDefaults()
	}
	if code, ok := parseFlags(fset, e, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		return usageErr(e, "sources", fmt.Sprintf("unexpected argument %q", fset.Arg(0)))
	}
	if err := out.validate(); err != nil {
		return usageErr(e, "sources", err.Error())
	}
	var err error
	if *graphPath == "" {
		if *graphPath, err = e.defaultGraph(); err != nil {
			return usageErr(e, "sources", err.Error())
		}
	}
	if *logPath == "" {
		if *logPath, err = e.defaultAuditLog(); err != nil {
			return usageErr(e, "sources", err.Error())
		}
	}
	st, err := store.Open(ctx, *graphPath)
	if err != nil {
		return fail(e, "sources", err)
	}
	defer st.Close()
	infos, err := st.Sources(ctx)
	if err != nil {
		return fail(e, "sources", err)
	}
	runs, err := lastSyncs(*logPath)
	if err != nil {
		return fail(e, "sources", err)
	}
	rows := sourceRows(infos, runs)
	return exitOn(e, "sources", writeSources(e, &out, rows))
}

// syncRun is the last sync of one connector, from the audit log.
type syncRun struct {
	connector string
	at        time.Time
	err       string
	sources   []string // of its last successful run
}

// lastSyncs reads the verified sync records of the audit log at path; a
// log that does not exist yet has none.
func lastSyncs(path string) (map[string]*syncRun, error) {
	var buf bytes.Buffer
	if _, err := audit.ExportFile(path, &buf); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	runs := map[string]*syncRun{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r audit.Record
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("audit log %s: %w", path, err)
		}
		if r.Action != "sync" {
			continue
		}
		run := runs[r.Target]
		if run == nil {
			run = &syncRun{connector: r.Target}
			runs[r.Target] = run
		}
		run.at, run.err = r.Time, r.Details["error"]
		if r.Outcome != "failed" && r.Details["sources"] != "" {
			run.sources = strings.Split(r.Details["sources"], ",")
		}
	}
	return runs, nil
}

// sourceRows joins the stored sources with the connector runs that wrote
// them; a connector whose runs never loaded anything gets a row of its own
// so its error is not lost.
func sourceRows(infos []store.SourceInfo, runs map[string]*syncRun) []sourceRow {
	bySource := map[string]*syncRun{}
	names := make([]string, 0, len(runs))
	for n := range runs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, s := range runs[n].sources {
			bySource[s] = runs[n]
		}
	}
	var rows []sourceRow
	seen := map[string]bool{}
	for _, si := range infos {
		loaded := si.LoadedAt
		r := sourceRow{Source: si.Source, Nodes: si.Nodes, Edges: si.Edges, LoadedAt: &loaded}
		if run := bySource[si.Source]; run != nil {
			at := run.at
			r.Connector, r.LastSync, r.LastError = run.connector, &at, run.err
			seen[run.connector] = true
		}
		rows = append(rows, r)
	}
	for _, n := range names {
		run := runs[n]
		if seen[n] || run.err == "" {
			continue
		}
		at := run.at
		rows = append(rows, sourceRow{Source: "-", Connector: n, LastSync: &at, LastError: run.err})
	}
	return rows
}

func writeSources(e *env, out *outputFlags, rows []sourceRow) error {
	if rows == nil {
		rows = []sourceRow{}
	}
	switch out.format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "yaml":
		return writeYAML(e.stdout, rows)
	}
	header := []string{"SOURCE", "CONNECTOR", "NODES", "EDGES", "LOADED_AT", "LAST_SYNC", "LAST_ERROR"}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = []string{r.Source, r.Connector, strconv.Itoa(r.Nodes), strconv.Itoa(r.Edges), timeCell(r.LoadedAt), timeCell(r.LastSync), r.LastError}
	}
	if out.format == "csv" {
		cw := csv.NewWriter(e.stdout)
		if !out.noHeaders {
			cw.Write(header)
		}
		cw.WriteAll(cells)
		return cw.Error()
	}
	st := styleFor(e.stdout, isTerminal, e.getenv)
	st.wide, st.noHeaders = out.wide, out.noHeaders
	_, err := renderTable(e.stdout, header, cells, st)
	return err
}

func timeCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
