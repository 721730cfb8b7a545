package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/query"
)

type outputFlags struct {
	format string
	wide   bool
}

func (o *outputFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	fs.BoolVar(&o.wide, "wide", false, "show long ids whole in tables")
}

func (o *outputFlags) validate() error {
	switch o.format {
	case "table", "json", "csv":
		return nil
	}
	return fmt.Errorf("--format must be table, json or csv, got %q", o.format)
}

// Answer is the JSON shape of ask/query output: a contract, fields are
// only ever added.
type Answer struct {
	Question string            `json:"question"`
	Plan     *query.Plan       `json:"plan"`
	Now      string            `json:"now"`
	Columns  []string          `json:"columns"`
	Rows     [][]any           `json:"rows"`
	Evidence [][]query.EdgeRef `json:"evidence"`
	Total    int               `json:"total"`
}

func (o *outputFlags) write(w io.Writer, question string, now time.Time, res *query.Result) error {
	switch o.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(Answer{Question: question, Plan: res.Plan, Now: now.Format(time.RFC3339), Columns: res.Columns,
			Rows: res.Rows, Evidence: res.Evidence, Total: res.Total})
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(res.Columns); err != nil {
			return err
		}
		for _, r := range res.Rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = cell(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return writeTable(w, res, o.wide)
}

// maxCell is the width past which table cells are shortened (unless
// --wide): long source-qualified ids would push every column off screen.
const maxCell = 48

func writeTable(w io.Writer, res *query.Result, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(res.Columns, "\t")))
	for _, r := range res.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			c := cell(v)
			if !wide {
				c = shorten(c, maxCell)
			}
			cells[i] = c
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case res.Total > len(res.Rows):
		fmt.Fprintf(w, "(%d of %d rows; raise the plan's limit to see more)\n", len(res.Rows), res.Total)
	case len(res.Rows) == 1:
		fmt.Fprintln(w, "(1 row)")
	default:
		fmt.Fprintf(w, "(%d rows)\n", len(res.Rows))
	}
	return nil
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if x == math.Trunc(x) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.1f", x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// shorten keeps the head and tail of s around an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := n/2 - 1
	tail := n - head - 1
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
