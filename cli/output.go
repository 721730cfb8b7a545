package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-oss/steward/internal/printable"
	"github.com/steward-oss/steward/query"
)

type outputFlags struct {
	format    string
	wide      bool
	noHeaders bool
	// interpretation and corrections, when set, say how the question
	// was read (ask); stderr gets the notes CSV cannot carry.
	interpretation string
	corrections    []string
	stderr         io.Writer
}

func (o *outputFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&o.format, "format", "table", "output format: table, wide, json, csv or yaml")
	fs.StringVar(&o.format, "o", "table", "shorthand for --format")
	fs.StringVar(&o.format, "output", "table", "same as --format")
	fs.BoolVar(&o.wide, "wide", false, "show every cell whole in tables, whatever the terminal width")
	fs.BoolVar(&o.noHeaders, "no-headers", false, "omit the header row (and the table's row count)")
}

func (o *outputFlags) validate() error {
	switch o.format {
	case "wide":
		o.format, o.wide = "table", true
		return nil
	case "table", "json", "csv", "yaml":
		return nil
	}
	return fmt.Errorf("--format must be table, wide, json, csv or yaml, got %q", o.format)
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
	// Interpretation says in words what was answered: kinds, conditions
	// with their numbers, scope, row limit (planner.Describe).
	Interpretation string `json:"interpretation,omitempty"`
	// Corrections are the words read as others ("admnis → admins").
	Corrections []string `json:"corrections,omitempty"`
}

func (o *outputFlags) write(w io.Writer, question string, now time.Time, res *query.Result) error {
	ans := Answer{Question: question, Plan: res.Plan, Now: now.Format(time.RFC3339), Columns: res.Columns,
		Rows: res.Rows, Evidence: res.Evidence, Total: res.Total, Interpretation: o.interpretation, Corrections: o.corrections}
	switch o.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(ans)
	case "yaml":
		return writeYAML(w, ans)
	case "csv":
		if o.stderr != nil && res.Total > len(res.Rows) {
			fmt.Fprintf(o.stderr, "steward: %d of %d rows written; --limit N or --all writes more\n", len(res.Rows), res.Total)
		}
		cw := csv.NewWriter(w)
		if !o.noHeaders {
			head := make([]string, len(res.Columns))
			for i, c := range res.Columns {
				head[i] = printable.CSVCell(c)
			}
			if err := cw.Write(head); err != nil {
				return err
			}
		}
		for _, r := range res.Rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = csvCell(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	st := styleFor(w, isTerminal, os.Getenv)
	st.wide, st.noHeaders = o.wide, o.noHeaders
	if !o.noHeaders && o.interpretation != "" {
		if len(o.corrections) > 0 {
			fmt.Fprintln(w, wrapAt("Read as: "+strings.Join(o.corrections, ", "), ", ", st.width))
		}
		fmt.Fprintf(w, "%s\n\n", wrapAt("Interpretation: "+o.interpretation, "; ", st.width))
	}
	return writeTableStyle(w, res, st)
}

// maxCell is the width past which table cells are shortened (unless
// --wide): long source-qualified ids would push every column off screen.
const maxCell = 48

func writeTable(w io.Writer, res *query.Result, wide bool) error {
	return writeTableStyle(w, res, tableStyle{wide: wide})
}

func writeTableStyle(w io.Writer, res *query.Result, st tableStyle) error {
	header := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		header[i] = strings.ToUpper(c)
	}
	rows := make([][]string, len(res.Rows))
	for j, r := range res.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(v)
		}
		rows[j] = cells
	}
	hidden, err := renderTable(w, header, rows, st)
	if err != nil {
		return err
	}
	if st.noHeaders {
		return nil
	}
	if hidden > 0 {
		fmt.Fprintf(w, "(%d columns hidden to fit; --wide shows all)\n", hidden)
	}
	switch {
	case res.Total > len(res.Rows):
		fmt.Fprintf(w, "(%d of %d rows; --limit N or --all shows more)\n", len(res.Rows), res.Total)
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

// csvCell renders a value for CSV: text that a spreadsheet would run as a
// formula is neutralised; numbers and booleans are written as they are.
func csvCell(v any) string {
	switch v.(type) {
	case nil, float64, int, int64, bool:
		return cell(v)
	}
	return printable.CSVCell(cell(v))
}

// escapeCells returns the cells with control characters made visible, so a
// tab, CR or newline from a source cannot draw a fake column or row and no
// ESC sequence reaches the terminal.
func escapeCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = printable.Escape(c)
	}
	return out
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

// wrapAt breaks s after sep so no line is wider than width (0: no limit);
// continuation lines are indented.
func wrapAt(s, sep string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	parts := strings.SplitAfter(s, sep)
	var b strings.Builder
	line := 0
	for _, p := range parts {
		n := utf8.RuneCountInString(p)
		if line > 0 && line+n > width {
			b.WriteString("\n  ")
			line = 2
			p = strings.TrimLeft(p, " ")
			n = utf8.RuneCountInString(p)
		}
		b.WriteString(p)
		line += n
	}
	return strings.ReplaceAll(b.String(), " \n", "\n")
}

// validator is a group of flags that checks its own values.
type validator interface{ validate() error }

// validateFlags checks flag groups in order and returns the first error.
func validateFlags(vs ...validator) error {
	for _, v := range vs {
		if err := v.validate(); err != nil {
			return err
		}
	}
	return nil
}
