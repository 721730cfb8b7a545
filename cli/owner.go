package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/query"
)

func init() {
	register(command{"owner", "set, remove or list owner corrections (survive re-syncs)", runOwner})
}

func runOwner(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "Usage: steward owner set IDENTITY EMAIL --reason TEXT [--by WHO] [--graph G | --demo] | owner unset IDENTITY | owner list  [--owners FILE]")
		return ExitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("owner "+sub, flag.ContinueOnError)
	path := fs.String("owners", DefaultOwners, "owner corrections file")
	reason := fs.String("reason", "", "why (required for set)")
	by := fs.String("by", os.Getenv("USER"), "who is making the correction (default $USER)")
	// set checks the identity and the person against the graph, so that
	// a correction that would change nothing is refused, not reported.
	g := graphFlags{seed: defaultDemoSeed, size: defaultDemoSize}
	fs.BoolVar(&g.demo, "demo", false, "check against the built-in demo organisation")
	fs.StringVar(&g.path, "graph", "", "graph store the identity and person are checked in (default "+DefaultGraph+")")
	pos, code, ok := parseInterspersed(fs, e, args[1:])
	if !ok {
		return code
	}
	g.overrides = *path
	st := ownership.NewStore(*path)
	switch sub {
	case "set":
		if len(pos) != 2 {
			return usageErr(e, "owner set", "want IDENTITY EMAIL")
		}
		if *reason == "" {
			return usageErr(e, "owner set", "--reason is required")
		}
		if strings.TrimSpace(*by) == "" {
			return usageErr(e, "owner set", "--by is required: who is making the correction ($USER is not set)")
		}
		id, err := checkOwnerTarget(ctx, e, &g, pos[0], pos[1])
		if err != nil {
			return fail(e, "owner set", err)
		}
		o := ownership.Override{Identity: id, OwnerEmail: strings.ToLower(strings.TrimSpace(pos[1])), SetBy: *by, SetAt: time.Now().UTC(), Reason: *reason}
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

// checkOwnerTarget resolves identity (an id or a unique name) in the graph
// and checks that email is a person there (the HR roster): a correction
// naming either wrongly would be stored and change nothing.
func checkOwnerTarget(ctx context.Context, e *env, g *graphFlags, identity, email string) (string, error) {
	if err := g.validate(); err != nil {
		return "", err
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return "", fmt.Errorf("open the graph to check %s (use --graph or --demo): %w", identity, err)
	}
	defer inv.Close()
	ix := inv.Index()
	i, err := query.Resolve(ix, identity)
	if err != nil {
		return "", fmt.Errorf("unknown identity: %w", err)
	}
	n := ix.Node(i)
	if n.Kind == graph.KindHuman || n.Kind == graph.KindResource || n.Kind == graph.KindAccount || n.Kind == graph.KindPolicy {
		return "", fmt.Errorf("%s is a %s, not an identity or credential", n.ID, n.Kind)
	}
	h, ok := ix.Lookup(graph.HumanID(strings.TrimSpace(email)))
	if !ok || ix.NodeKind(h) != graph.KindHuman {
		return "", fmt.Errorf("%s is not a person in the graph (load the HR roster, or check the spelling)", email)
	}
	return n.ID, nil
}
