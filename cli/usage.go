package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/config"
	nhiusage "github.com/steward-oss/steward/graph/derive/usage"
	"github.com/steward-oss/steward/query"
)

func init() {
	register(command{"unused", "permissions an identity holds but did not use (a least-privilege policy)", runUnused})
	register(command{"anomalies", "credentials used from a new source IP or user agent", runAnomalies})
}

func runUnused(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("unused", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, true)
	window := fs.String("window", "90d", "look-back window for recorded use")
	format := fs.String("format", "table", "table or json")
	pos, code, ok := parseInterspersed(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageErr(e, "unused", "want IDENTITY (an id or a unique name)")
	}
	if err := g.validate(); err != nil {
		return usageErr(e, "unused", err.Error())
	}
	w, err := config.ParseDuration(*window)
	if err != nil || w <= 0 {
		return usageErr(e, "unused", fmt.Sprintf("--window: want a positive duration such as 90d, got %q", *window))
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "unused", err)
	}
	defer inv.Close()
	ix := inv.Index()
	i, err := query.Resolve(ix, pos[0])
	if err != nil {
		return fail(e, "unused", err)
	}
	rep, err := nhiusage.UnusedPermissions(inv.All(), ix.NodeID(i), w, g.nowAt)
	if err != nil {
		return fail(e, "unused", err)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return exitOn(e, "unused", enc.Encode(rep))
	}
	fmt.Fprintf(e.stdout, "%s: %d granted, %d used, %d unused between %s and %s\n", rep.Identity, len(rep.Granted),
		len(rep.Used), len(rep.Unused), rep.From.Format(time.DateOnly), rep.To.Format(time.DateOnly))
	for _, a := range rep.Used {
		fmt.Fprintf(e.stdout, "  used:   %s (last %s)\n", a, rep.LastUsed[a].Format(time.DateOnly))
	}
	for _, a := range rep.UsedNotGranted {
		fmt.Fprintf(e.stdout, "  used, granted elsewhere: %s\n", a)
	}
	for _, a := range rep.Unused {
		fmt.Fprintf(e.stdout, "  unused: %s\n", a)
	}
	if rep.Policy != "" {
		fmt.Fprintf(e.stdout, "least-privilege policy (what was used):\n%s\n", rep.Policy)
	}
	if rep.Role != "" {
		fmt.Fprintf(e.stdout, "least-privilege Kubernetes role (what was used):\n%s\n", rep.Role)
	}
	if rep.Policy == "" && rep.Role == "" {
		fmt.Fprintln(e.stdout, "nothing was used in the window: the least privilege is no permission at all")
	}
	return ExitOK
}

func runAnomalies(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("anomalies", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, true)
	format := fs.String("format", "table", "table or json")
	window := fs.String("window", "7d", "only sightings first seen this long before --now (0 for all)")
	minBase := fs.Int("min-baseline", 2, "earlier uses a subject needs before a new value counts")
	perSubject := fs.Bool("per-subject", false, "compare with the subject's own history only, not its source's other identities")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if err := g.validate(); err != nil {
		return usageErr(e, "anomalies", err.Error())
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "anomalies", err)
	}
	defer inv.Close()
	opts := nhiusage.DefaultOptions(g.nowAt)
	if *window == "0" {
		opts.Window = 0
	} else if w, err := config.ParseDuration(*window); err != nil || w <= 0 {
		return usageErr(e, "anomalies", fmt.Sprintf("--window: want a positive duration such as 7d, or 0, got %q", *window))
	} else {
		opts.Window = w
	}
	opts.MinBaseline = *minBase
	opts.SourceWide = !*perSubject
	as := nhiusage.AnomaliesIn(inv.All(), opts)
	if *format == "json" {
		return exitOn(e, "anomalies", json.NewEncoder(e.stdout).Encode(as))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tSIGNAL\tVALUE\tFIRST_SEEN\tKNOWN_BEFORE")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", a.Subject, a.Kind, a.Value, a.FirstSeen.Format(time.RFC3339), len(a.Known))
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "(%d anomalies)\n", len(as))
	return ExitOK
}

func exitOn(e *env, cmd string, err error) int {
	if err != nil {
		return fail(e, cmd, err)
	}
	return ExitOK
}
