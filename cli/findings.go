package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/steward-oss/steward/findings"
	"github.com/steward-oss/steward/findings/sod"
)

func init() {
	register(command{"findings", "standing risk findings: OWASP NHI Top 10 checks, escalation paths, toxic combinations (exit 3 when any)", runFindings})
}

func runFindings(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("findings", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, true)
	var o outputFlags
	o.register(fs)
	check := fs.String("check", "", "only this check (NHI1..NHI10, ESC, SOD; an OWASP id selects every check mapped to it)")
	rulesFile := fs.String("sod-rules", "", "separation-of-duties rules YAML (default: the built-in set)")
	list := fs.Bool("list", false, "list the checks (id, OWASP item, what Steward can and cannot see, query) instead of running them")
	pos, code, ok := parseInterspersed(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return usageErr(e, "findings", "takes no arguments")
	}
	if err := validateFlags(&g, &o); err != nil {
		return usageErr(e, "findings", err.Error())
	}
	var opts findings.Options
	if *rulesFile != "" {
		r, err := sod.Load(*rulesFile)
		if err != nil {
			return usageErr(e, "findings", err.Error())
		}
		opts.SoD = r
	}
	c := findings.New(opts)
	if _, err := c.Select(*check); err != nil {
		return usageErr(e, "findings", err.Error())
	}
	if *list {
		return listChecks(e, &o, c)
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "findings", err)
	}
	defer inv.Close()
	rep, err := c.Report(ctx, inv.Index(), g.nowAt, *check)
	if err != nil {
		return fail(e, "findings", err)
	}
	if err := writeFindings(e, &o, rep); err != nil {
		return fail(e, "findings", err)
	}
	if rep.Total > 0 {
		return ExitFindings
	}
	return ExitOK
}

func writeFindings(e *env, o *outputFlags, rep *findings.Report) error {
	header := []string{"check", "owasp", "severity", "identity", "name", "source", "detail"}
	rows := make([][]string, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		rows = append(rows, []string{f.Check, f.OWASP, f.Severity, f.Identity, f.Name, f.Source, f.Detail})
	}
	switch o.format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	case "yaml":
		return writeYAML(e.stdout, rep)
	case "csv":
		return writeCSV(e, o, header, rows)
	}
	st := styleFor(e.stdout, isTerminal, os.Getenv)
	st.wide, st.noHeaders = o.wide, o.noHeaders
	if _, err := renderTable(e.stdout, header, rows, st); err != nil {
		return err
	}
	if !o.noHeaders {
		fmt.Fprintf(e.stdout, "%d findings\n", rep.Total)
		for _, ch := range rep.Checks {
			fmt.Fprintf(e.stdout, "  %-6s %-6s %4d  %s\n", ch.ID, ch.OWASP, ch.Count, ch.Title)
		}
	}
	return nil
}

func listChecks(e *env, o *outputFlags, c *findings.Checker) int {
	if o.format == "json" || o.format == "yaml" {
		var err error
		if o.format == "json" {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(c.Checks())
		} else {
			err = writeYAML(e.stdout, c.Checks())
		}
		return exitOn(e, "findings", err)
	}
	header := []string{"check", "owasp", "severity", "title", "sees", "cannot_see"}
	var rows [][]string
	for _, ch := range c.Checks() {
		rows = append(rows, []string{ch.ID, ch.OWASP, ch.Severity, ch.Title, ch.Sees, ch.CannotSee})
	}
	if o.format == "csv" {
		return exitOn(e, "findings", writeCSV(e, o, header, rows))
	}
	st := styleFor(e.stdout, isTerminal, os.Getenv)
	st.wide, st.noHeaders = o.wide, o.noHeaders
	_, err := renderTable(e.stdout, header, rows, st)
	return exitOn(e, "findings", err)
}

func writeCSV(e *env, o *outputFlags, header []string, rows [][]string) error {
	cw := csv.NewWriter(e.stdout)
	if !o.noHeaders {
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return errors.Join(cw.Error())
}
