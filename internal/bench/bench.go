// Package bench measures Steward's core path on the demo organisation:
// load rate into the store and index, memory, and per-question latency of
// the planner+executor next to the same questions answered by a plain Go
// scan (internal/oracle) over the same data in the same run. The targets
// are ratios, so both sides always run together; nothing here asserts on
// time.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/graph/store"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/internal/oracle"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// Question pairs an English question with the plain scan that answers it.
type Question struct {
	Text string
	Scan func(o *oracle.Graph, now time.Time) int
}

// Questions are the core questions measured.
var Questions = []Question{
	{"admins idle 30 days", func(o *oracle.Graph, now time.Time) int { return len(o.AdminsIdle(now, 30)) }},
	{"service accounts with no owner", func(o *oracle.Graph, now time.Time) int {
		return len(o.WithOwnerStatus([]graph.Kind{graph.KindServiceAccount, graph.KindWorkload, graph.KindOAuthApp}, "absent"))
	}},
	{"identities whose owner left", func(o *oracle.Graph, now time.Time) int { return len(o.WithOwnerStatus(nil, "departed")) }},
	{"keys older than 90 days", func(o *oracle.Graph, now time.Time) int { return len(o.CredentialsOlderThan(now, 90)) }},
	{"credentials expiring in 14 days", func(o *oracle.Graph, now time.Time) int { return len(o.CredentialsExpiringWithin(now, 14)) }},
	{"count identities by source", func(o *oracle.Graph, now time.Time) int { return len(o.CountBySourceType()) }},
}

// Report is one run's measurements.
type Report struct {
	Size        int
	Nodes       int
	Edges       int
	LoadTime    time.Duration // generate excluded: store replace + index build
	LoadRate    float64       // identities per second
	HeapBytes   uint64        // live heap after load (store + index)
	PeakRSS     int64         // bytes, this process, after the load
	Questions   []QuestionReport
	StoreURI    string
	GenerateDur time.Duration
	// SQL is the PostgreSQL baseline's load, when a database was given.
	SQL *SQLReport
	// Fresh is `steward ask` run as a fresh process on a stored graph.
	Fresh *FreshReport
	// Bulk is `steward load graph` and `steward demo --out` run as fresh
	// processes, when asked for.
	Bulk *BulkReport
}

// SQLReport is the PostgreSQL baseline's load of the same rows.
type SQLReport struct {
	Copy, Load time.Duration // COPY alone; COPY + indexes + ANALYZE
}

// FreshReport times one question asked by fresh processes.
type FreshReport struct {
	Graph    string
	Question string
	Runs     []time.Duration
	P50      time.Duration
	MaxRSS   int64 // bytes, the largest of the runs (0 without GNU time)
	Rows     int
	SQLRatio float64 // SQL time / fresh-process p50, when SQL ran
	SameRows bool    // the rows agree with the SQL baseline's
	ids      []string
}

// QuestionReport compares one question's two answers.
type QuestionReport struct {
	Text     string
	Rows     int
	Steward  time.Duration // median
	Scan     time.Duration // median
	ScanRows int
	Ratio    float64 // Scan / Steward: how many times faster the index is
	// SQL: the same question in PostgreSQL (median; zero when not run).
	SQL      time.Duration
	SQLRows  int
	SQLRatio float64 // SQL / Steward
}

// indexOnly is the store for storeURI "none": it keeps nothing, so a run
// measures the in-memory index alone (the cayley store's own write rate is
// measured by graph/store's benchmarks). At 1M identities the memstore's
// quads would not leave room for both sides of the comparison.
type indexOnly struct{}

func (indexOnly) Replace(context.Context, ...*graph.Subgraph) error { return nil }
func (indexOnly) Load(context.Context) ([]*graph.Subgraph, error)   { return nil, nil }
func (indexOnly) Close() error                                      { return nil }

// Loaded is a demo organisation loaded for measuring.
type Loaded struct {
	Report *Report
	Index  *graph.Index
	Oracle *oracle.Graph
	inv    *inventory.Inventory
}

// Close releases the store.
func (l *Loaded) Close() error { return l.inv.Close() }

// Load generates the demo at size and loads it into storeURI ("memory" or
// a bolt path), measuring load time and memory.
func Load(ctx context.Context, size int, seed int64, storeURI string) (*Loaded, error) {
	r := &Report{Size: size, StoreURI: storeURI}
	var err error
	t0 := time.Now()
	sgs := demo.Generate(demo.Config{Seed: seed, Size: size})
	r.GenerateDur = time.Since(t0)
	for _, sg := range sgs {
		r.Nodes += len(sg.Nodes)
		r.Edges += len(sg.Edges)
	}
	var st inventory.Store = indexOnly{}
	if storeURI != "none" {
		if st, err = store.Open(ctx, storeURI); err != nil {
			return nil, err
		}
	}
	inv, err := inventory.Open(ctx, st, inventory.Options{})
	if err != nil {
		st.Close()
		return nil, err
	}
	t0 = time.Now()
	if err := inv.Replace(ctx, sgs...); err != nil {
		inv.Close()
		return nil, err
	}
	r.LoadTime = time.Since(t0)
	r.LoadRate = float64(size) / r.LoadTime.Seconds()
	sgs = nil
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapBytes = ms.HeapAlloc
	r.PeakRSS = peakRSS()
	return &Loaded{Report: r, Index: inv.Index(), Oracle: oracle.New(inv.All()), inv: inv}, nil
}

// Run loads the demo and times every question reps times on both sides.
func Run(ctx context.Context, size int, seed int64, storeURI string, reps int) (*Report, error) {
	return RunWith(ctx, Options{Size: size, Seed: seed, StoreURI: storeURI, Reps: reps})
}

// Options configure RunWith.
type Options struct {
	Size     int
	Seed     int64
	StoreURI string
	Reps     int
	// SQL, when set, is a PostgreSQL database for the SQL baseline.
	SQL *sql.DB
	// Steward and AskGraph, when set, run `Steward ask --graph AskGraph`
	// as Reps fresh processes (AskGraph must hold the same demo).
	Steward, AskGraph string
	// Bulk, with Steward set, times `Steward load graph` of the demo's
	// export and `Steward demo --out` as fresh processes into empty bolt
	// stores (BulkReport).
	Bulk bool
}

// RunWith is Run with the optional baselines.
func RunWith(ctx context.Context, o Options) (*Report, error) {
	size, storeURI, reps := o.Size, o.StoreURI, o.Reps
	l, err := Load(ctx, size, o.Seed, storeURI)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var base *SQLBaseline
	if o.SQL != nil {
		if base, err = LoadSQL(ctx, o.SQL, l.Oracle); err != nil {
			return nil, err
		}
		l.Report.SQL = &SQLReport{Copy: base.Copy, Load: base.Load}
	}
	r, ix, or := l.Report, l.Index, l.Oracle
	now := demo.Reference
	for _, q := range Questions {
		p, err := planner.Plan(q.Text, nil)
		if err != nil {
			return nil, fmt.Errorf("bench: plan %q: %w", q.Text, err)
		}
		qr := QuestionReport{Text: q.Text}
		qr.Steward = median(reps, func() {
			res, err := query.Execute(ctx, ix, p, now)
			if err == nil {
				qr.Rows = res.Total
			}
		})
		qr.Scan = median(reps, func() { qr.ScanRows = q.Scan(or, now) })
		qr.Ratio = float64(qr.Scan) / float64(max(qr.Steward, 1))
		if base != nil && q.Text == AskQuestion {
			var serr error
			qr.SQL = median(reps, func() {
				var ids []string
				ids, serr = base.AdminsIdle(ctx, now, 30)
				qr.SQLRows = len(ids)
			})
			if serr != nil {
				return nil, serr
			}
			qr.SQLRatio = float64(qr.SQL) / float64(max(qr.Steward, 1))
		}
		r.Questions = append(r.Questions, qr)
	}
	if o.Steward != "" && o.AskGraph != "" {
		f, err := freshAsk(ctx, o.Steward, o.AskGraph, now, reps)
		if err != nil {
			return nil, err
		}
		if base != nil {
			sqlIDs, err := base.AdminsIdle(ctx, now, 30)
			if err != nil {
				return nil, err
			}
			// The answer lists at most its plan's limit of rows: every
			// listed row is in the SQL answer and the totals agree.
			f.SameRows = f.Rows == len(sqlIDs) && len(f.ids) == min(f.Rows, len(f.ids))
			for _, id := range f.ids {
				f.SameRows = f.SameRows && slices.Contains(sqlIDs, id)
			}
			f.SQLRatio = float64(r.Questions[0].SQL) / float64(max(f.P50, 1))
		}
		r.Fresh = f
	}
	if o.Bulk && o.Steward != "" {
		b, err := bulkLoads(ctx, o.Steward, l.inv.Subgraphs(), size, o.Seed)
		if err != nil {
			return nil, err
		}
		if r.SQL != nil {
			b.LoadRatio = float64(b.Load.Wall) / float64(max(r.SQL.Load, 1))
		}
		r.Bulk = b
	}
	return r, nil
}

// AskQuestion is the question the fresh-process and SQL comparisons use.
const AskQuestion = "admins idle 30 days"

func median(n int, fn func()) time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		fn()
		ds[i] = time.Since(t)
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[n/2]
}

// Print writes r as a table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "demo size %d identities: %d nodes, %d edges; generate %s\n", r.Size, r.Nodes, r.Edges, r.GenerateDur.Round(time.Millisecond))
	what := r.StoreURI + " store + index"
	if r.StoreURI == "none" {
		what = "index only"
	}
	fmt.Fprintf(w, "load (%s): %s, %.0f identities/s; live heap %.1f MiB\n",
		what, r.LoadTime.Round(time.Millisecond), r.LoadRate, float64(r.HeapBytes)/(1<<20))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "QUESTION\tROWS\tSTEWARD\tPLAIN SCAN\tSCAN ROWS\tRATIO (scan/steward)\t")
	for _, q := range r.Questions {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%.1fx\t\n", q.Text, q.Rows, q.Steward.Round(time.Microsecond), q.Scan.Round(time.Microsecond), q.ScanRows, q.Ratio)
	}
	tw.Flush()
	if r.SQL != nil {
		fmt.Fprintf(w, "postgresql baseline: COPY %s, COPY + indexes + ANALYZE %s; load/SQL-load ratio %.2f\n",
			r.SQL.Copy.Round(time.Millisecond), r.SQL.Load.Round(time.Millisecond), float64(r.LoadTime)/float64(max(r.SQL.Load, 1)))
		for _, q := range r.Questions {
			if q.SQL > 0 {
				fmt.Fprintf(w, "  %q: SQL %s (%d rows), in-process steward %s: SQL/steward %.1fx\n",
					q.Text, q.SQL.Round(time.Microsecond), q.SQLRows, q.Steward.Round(time.Microsecond), q.SQLRatio)
			}
		}
	}
	if f := r.Fresh; f != nil {
		fmt.Fprintf(w, "fresh process `steward ask --graph %s %q`: p50 %s over %d runs (%s), max RSS %.0f MiB, %d rows\n",
			f.Graph, f.Question, f.P50.Round(time.Millisecond), len(f.Runs), durs(f.Runs), float64(f.MaxRSS)/(1<<20), f.Rows)
		if f.SQLRatio > 0 {
			fmt.Fprintf(w, "  SQL/fresh-ask %.2fx; rows identical to SQL: %v\n", f.SQLRatio, f.SameRows)
		}
	}
	if b := r.Bulk; b != nil {
		nodesEdges := float64(r.Nodes + r.Edges)
		fmt.Fprintf(w, "bulk load, fresh process into an empty bolt store: `%s` (%d lines, %.0f MiB): %s, %.0f nodes+edges/s, max RSS %.0f MiB\n",
			b.Load.Command, b.ExportLines, float64(b.ExportBytes)/(1<<20), b.Load.Wall.Round(time.Millisecond), nodesEdges/b.Load.Wall.Seconds(), float64(b.Load.MaxRSS)/(1<<20))
		if b.LoadRatio > 0 {
			fmt.Fprintf(w, "  load graph / PostgreSQL COPY + indexes of the same rows (%s): %.2fx\n", r.SQL.Load.Round(time.Millisecond), b.LoadRatio)
		}
		if b.Demo.Command != "" {
			fmt.Fprintf(w, "  `%s`: %s, max RSS %.0f MiB\n", b.Demo.Command, b.Demo.Wall.Round(time.Millisecond), float64(b.Demo.MaxRSS)/(1<<20))
		}
	}
	fmt.Fprintf(w, "peak RSS of this process: %.0f MiB\n", float64(r.PeakRSS)/(1<<20))
}

func durs(ds []time.Duration) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(d.Round(time.Millisecond).String())
	}
	return b.String()
}
