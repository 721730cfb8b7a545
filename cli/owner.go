package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/ownership"
)

func init() {
	register(command{"owner", "set, remove or list owner corrections (survive re-syncs)", runOwner})
}

func runOwner(_ context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "Usage: steward owner set IDENTITY EMAIL --reason TEXT | owner unset IDENTITY | owner list  [--owners FILE]")
		return ExitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("owner "+sub, flag.ContinueOnError)
	path := fs.String("owners", DefaultOwners, "owner corrections file")
	reason := fs.String("reason", "", "why (required for set)")
	by := fs.String("by", os.Getenv("USER"), "who is making the correction")
	pos, code, ok := parseInterspersed(fs, e, args[1:])
	if !ok {
		return code
	}
	st := ownership.NewStore(*path)
	switch sub {
	case "set":
		if len(pos) != 2 {
			return usageErr(e, "owner set", "want IDENTITY EMAIL")
		}
		if *reason == "" {
			return usageErr(e, "owner set", "--reason is required")
		}
		o := ownership.Override{Identity: pos[0], OwnerEmail: pos[1], SetBy: *by, SetAt: time.Now().UTC(), Reason: *reason}
		if err := st.Set(o); err != nil {
			return fail(e, "owner set", err)
		}
		fmt.Fprintf(e.stderr, "owner of %s set to %s\n", o.Identity, o.OwnerEmail)
	case "unset":
		if len(pos) != 1 {
			return usageErr(e, "owner unset", "want IDENTITY")
		}
		found, err := st.Delete(pos[0])
		if err != nil {
			return fail(e, "owner unset", err)
		}
		if !found {
			return fail(e, "owner unset", fmt.Errorf("no correction for %s", pos[0]))
		}
	case "list":
		list, err := st.List()
		if err != nil {
			return fail(e, "owner list", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "IDENTITY\tOWNER\tSET_BY\tSET_AT\tREASON")
		for _, o := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Identity, o.OwnerEmail, o.SetBy, o.SetAt.Format(time.RFC3339), o.Reason)
		}
		tw.Flush()
	default:
		return usageErr(e, "owner", fmt.Sprintf("unknown subcommand %q", sub))
	}
	return ExitOK
}
