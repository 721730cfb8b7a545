package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/review"
)

// DefaultReviews is the review store when --store is not given.
const DefaultReviews = "./steward-reviews.db"

func init() {
	register(command{"review", "access reviews: launch, list, show, decide, report, tick, close", runReview})
}

const reviewUsage = `usage: steward review <launch|list|show|decide|report|tick|close> [flags]

  launch [--demo | --graph P] [--campaign FILE]     launch a campaign (--demo: the demo's quarterly one)
  list                                              launched campaigns
  show ID [--reviewer EMAIL]                        items, reviewers, decisions
  decide ID ITEM keep|revoke|modify|reassign --as EMAIL [--justification J] [--until DATE] [--to EMAIL]
  report ID --format csv|json|html [--out FILE]     the campaign report / evidence report
  tick [--now T]                                    reminders, escalations, defaults at the deadline
  close ID --as EMAIL                               close early (undecided items get the default)

Every subcommand takes --store (review store: bolt file or postgres://, default ` + DefaultReviews + `),
--approvals (approval store, default remediation.store or ` + DefaultApprovals + `), --audit-log,
--config and --now.`

// reviewFlags are the flags every review subcommand shares.
type reviewFlags struct {
	g         graphFlags
	store     string
	approvals string
	auditLog  string
	cfgPath   string
	format    string
}

func (f *reviewFlags) register(fs *flag.FlagSet) {
	f.g.register(fs, true)
	fs.StringVar(&f.store, "store", "", "review store: a bolt file or postgres://... (default: reviews.store of --config, else "+DefaultReviews+")")
	fs.StringVar(&f.approvals, "approvals", "", "approval store (default: remediation.store of --config, else "+DefaultApprovals+")")
	fs.StringVar(&f.auditLog, "audit-log", "", "audit log (default: audit_log of --config, else "+DefaultAuditLog+")")
	fs.StringVar(&f.cfgPath, "config", "", "steward.yaml (approver groups, stores)")
	fs.StringVar(&f.format, "format", "table", "table or json")
}

// reviewParts are the opened stores and services of one invocation.
type reviewParts struct {
	svc     *review.Service
	closers []func() error
	now     time.Time
}

func (p *reviewParts) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// open builds the review service. graph says whether the graph is
// needed (launch, tick); campaigns are merged into the approver groups.
func (f *reviewFlags) open(ctx context.Context, e *env, withGraph bool, campaigns ...*review.Campaign) (*reviewParts, error) {
	if err := f.g.validate(); err != nil {
		return nil, &usageError{err.Error()}
	}
	d := config.Defaults()
	cfg := &d
	if f.cfgPath != "" {
		var err error
		if cfg, err = config.Load(f.cfgPath, os.Getenv); err != nil {
			return nil, &usageError{err.Error()}
		}
	}
	if f.store == "" {
		f.store = cfg.Reviews.Store
		if f.store == "" {
			f.store = DefaultReviews
		}
	}
	if f.approvals == "" {
		f.approvals = cfg.Remediation.Store
		if f.approvals == "" {
			f.approvals = DefaultApprovals
		}
	}
	if f.auditLog == "" {
		f.auditLog = cfg.AuditLog
		if f.auditLog == "" {
			f.auditLog = DefaultAuditLog
		}
	}
	p := &reviewParts{now: f.g.nowAt}
	clock := fixedClock{f.g.nowAt}
	alog, err := audit.Open(f.auditLog, audit.WithClock(clock.Now))
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, alog.Close)
	rst, err := review.OpenStore(ctx, f.store)
	if err != nil {
		p.Close()
		return nil, err
	}
	p.closers = append(p.closers, rst.Close)
	if len(campaigns) == 0 {
		// Decisions on launched campaigns: their inline groups approve too.
		ins, err := rst.List(ctx)
		if err != nil {
			p.Close()
			return nil, err
		}
		for _, in := range ins {
			c := in.Campaign
			if c.File != "" { // campaigns as code only: see review.Groups
				campaigns = append(campaigns, &c)
			}
		}
	}
	groups := review.Groups{Base: approval.StaticGroups(cfg.Approvers), Campaigns: campaigns}
	ast, err := approval.OpenStore(ctx, f.approvals)
	if err != nil {
		p.Close()
		return nil, err
	}
	p.closers = append(p.closers, ast.Close)
	asvc, err := approval.NewService(approval.Options{Store: ast, Audit: alog, Groups: groups, Clock: clock, Logger: e.log})
	if err != nil {
		p.Close()
		return nil, err
	}
	o := review.Options{Store: rst, Audit: alog, Approvals: asvc, Groups: groups, Clock: clock, Logger: e.log}
	if withGraph {
		inv, err := f.g.open(ctx, e)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.closers = append(p.closers, inv.Close)
		o.Graph = inv
	}
	if p.svc, err = review.NewService(o); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func reviewFail(e *env, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return usageErr(e, "review", ue.msg)
	}
	return fail(e, "review", err)
}

func runReview(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, reviewUsage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("review "+sub, flag.ContinueOnError)
	var f reviewFlags
	f.register(fs)
	campaignFile := fs.String("campaign", "", "campaign file (reviews/*.yaml format); launch only")
	as := fs.String("as", "", "your e-mail: who decides (decide, close) or launches")
	justification := fs.String("justification", "", "why (keep of privileged or idle access needs one; reassign needs a note)")
	until := fs.String("until", "", "keep until this date (2006-01-02)")
	to := fs.String("to", "", "new reviewer's e-mail (reassign)")
	reviewer := fs.String("reviewer", "", "only this reviewer's items (show)")
	out := fs.String("out", "", "write the report here instead of stdout")
	pos, code, ok := parseInterspersed(fs, e, args)
	if !ok {
		return code
	}
	switch sub {
	case "launch":
		return reviewLaunch(ctx, e, &f, *campaignFile, *as)
	case "list":
		return reviewList(ctx, e, &f)
	case "show":
		if len(pos) != 1 {
			return usageErr(e, "review", "show wants a campaign ID")
		}
		return reviewShow(ctx, e, &f, pos[0], *reviewer)
	case "decide":
		if len(pos) != 3 {
			return usageErr(e, "review", "decide wants ID ITEM keep|revoke|modify|reassign")
		}
		if *as == "" {
			return usageErr(e, "review", "decide needs --as EMAIL (who decides)")
		}
		in := review.Input{Kind: review.DecisionKind(pos[2]), Justification: *justification, To: *to}
		if *until != "" {
			t, err := time.Parse(time.DateOnly, *until)
			if err != nil {
				return usageErr(e, "review", fmt.Sprintf("--until: want 2006-01-02, got %q", *until))
			}
			in.Until = t
		}
		return reviewDecide(ctx, e, &f, pos[0], pos[1], in, *as)
	case "report":
		if len(pos) != 1 {
			return usageErr(e, "review", "report wants a campaign ID")
		}
		return reviewReport(ctx, e, &f, pos[0], *out)
	case "tick":
		return reviewTick(ctx, e, &f)
	case "close":
		if len(pos) != 1 || *as == "" {
			return usageErr(e, "review", "close wants a campaign ID and --as EMAIL")
		}
		return reviewClose(ctx, e, &f, pos[0], *as)
	}
	return usageErr(e, "review", fmt.Sprintf("unknown subcommand %q\n%s", sub, reviewUsage))
}

func reviewLaunch(ctx context.Context, e *env, f *reviewFlags, file, as string) int {
	var c *review.Campaign
	var err error
	switch {
	case file != "":
		b, rerr := os.ReadFile(file)
		if rerr != nil {
			return fail(e, "review", rerr)
		}
		if c, err = review.ParseCampaign(file, b); err != nil {
			return usageErr(e, "review", err.Error())
		}
	case f.g.demo:
		if c, err = review.DemoCampaign(); err != nil {
			return fail(e, "review", err)
		}
	default:
		return usageErr(e, "review", "launch needs --campaign FILE (or --demo for the demo's quarterly campaign)")
	}
	p, err := f.open(ctx, e, true, c)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	if as == "" {
		as = "cli"
		if u := os.Getenv("USER"); u != "" {
			as = "cli:" + u
		}
	}
	in, err := p.svc.Launch(ctx, c, review.Actor{ID: as, Where: audit.WhereCLI})
	if err != nil {
		return fail(e, "review", err)
	}
	if f.format == "json" {
		return exitOn(e, "review", review.NewReport(in, p.now).WriteJSON(e.stdout))
	}
	fmt.Fprintf(e.stdout, "launched %s: %d items, due %s\n", in.ID, len(in.Items), in.Due.Format(time.RFC3339))
	for _, r := range in.PendingReviewers() {
		items := in.ItemsFor(r)
		fmt.Fprintf(e.stdout, "\n%s (%d)\n", r, len(items))
		for _, it := range items {
			fmt.Fprintf(e.stdout, "  %-4s %-40s %-6s %s\n", it.ID, clipCell(it.Snapshot.Name, 40), it.Snapshot.Privilege, idleText(it))
		}
	}
	if un := unassigned(in); un > 0 {
		fmt.Fprintf(e.stdout, "\n%d items have no reviewer (no rule yields one)\n", un)
	}
	return ExitOK
}

func unassigned(in *review.Instance) int {
	n := 0
	for _, it := range in.Items {
		if it.Reviewer == "" {
			n++
		}
	}
	return n
}

func idleText(it *review.Item) string {
	return fmt.Sprintf("%d days idle", it.Snapshot.IdleDays)
}

func clipCell(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func reviewList(ctx context.Context, e *env, f *reviewFlags) int {
	p, err := f.open(ctx, e, false)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	ins, err := p.svc.List(ctx)
	if err != nil {
		return fail(e, "review", err)
	}
	sums := make([]*review.Summary, len(ins))
	for i, in := range ins {
		sums[i] = review.Summarize(in, p.now)
	}
	if f.format == "json" {
		return exitOn(e, "review", writeJSON(e.stdout, sums))
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tITEMS\tDECIDED\tCOMPLETION\tOVERDUE\tDUE")
	for i, in := range ins {
		s := sums[i]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f%%\t%d\t%s\n", in.ID, in.State, s.Items, s.Decided, s.Completion*100, len(s.Overdue), in.Due.Format(time.RFC3339))
	}
	return exitOn(e, "review", tw.Flush())
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func reviewShow(ctx context.Context, e *env, f *reviewFlags, id, reviewer string) int {
	p, err := f.open(ctx, e, false)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	in, err := p.svc.Get(ctx, id)
	if err != nil {
		return fail(e, "review", err)
	}
	items := in.Items
	if reviewer != "" {
		items = in.ItemsFor(reviewer)
	}
	if f.format == "json" {
		r := review.NewReport(in, p.now)
		r.Items = items
		return exitOn(e, "review", r.WriteJSON(e.stdout))
	}
	s := review.Summarize(in, p.now)
	fmt.Fprintf(e.stdout, "%s (%s): %d items, %d decided, due %s\n", in.ID, in.State, s.Items, s.Decided, in.Due.Format(time.RFC3339))
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tIDENTITY\tPRIVILEGE\tOWNER\tREVIEWER\tDECISION\tOUTCOME\tPROPOSAL")
	for _, it := range items {
		dec := "-"
		if it.Decision != nil {
			dec = string(it.Decision.Kind)
			if it.Decision.Default {
				dec += " (default)"
			}
		}
		owner := it.Snapshot.Owner
		if owner == "" {
			owner = "(" + it.Snapshot.OwnerState + ")"
		}
		changed := ""
		if it.Changed {
			changed = " [changed]"
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, clipCell(it.Snapshot.Name, 40), changed, it.Snapshot.Privilege, owner,
			it.Reviewer, dec, it.Outcome, it.ProposalID)
	}
	return exitOn(e, "review", tw.Flush())
}

func reviewDecide(ctx context.Context, e *env, f *reviewFlags, id, item string, d review.Input, as string) int {
	p, err := f.open(ctx, e, false)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	_, it, err := p.svc.Decide(ctx, id, item, d, review.Actor{ID: as, Where: audit.WhereCLI})
	if err != nil {
		return fail(e, "review", err)
	}
	if f.format == "json" {
		return exitOn(e, "review", writeJSON(e.stdout, it))
	}
	switch {
	case d.Kind == review.DecisionReassign:
		fmt.Fprintf(e.stdout, "%s reassigned to %s\n", it.ID, it.Reviewer)
	case it.ProposalID != "":
		fmt.Fprintf(e.stdout, "%s %s: proposal %s opened (%s); it runs once approved\n", it.ID, d.Kind, it.ProposalID, it.ProposalState)
	default:
		fmt.Fprintf(e.stdout, "%s %s until %s\n", it.ID, it.Outcome, it.Decision.Until.Format(time.DateOnly))
	}
	return ExitOK
}

func reviewReport(ctx context.Context, e *env, f *reviewFlags, id, out string) int {
	p, err := f.open(ctx, e, false)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	in, err := p.svc.Get(ctx, id)
	if err != nil {
		return fail(e, "review", err)
	}
	w := e.stdout
	if out != "" {
		fh, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(e, "review", err)
		}
		defer fh.Close()
		w = fh
	}
	r := review.NewReport(in, p.now)
	switch f.format {
	case "csv":
		err = r.WriteCSV(w)
	case "json":
		err = r.WriteJSON(w)
	case "html":
		err = r.WriteHTML(w)
	case "table":
		return usageErr(e, "review", "report needs --format csv, json or html")
	default:
		return usageErr(e, "review", fmt.Sprintf("--format: %q is not csv, json or html", f.format))
	}
	return exitOn(e, "review", err)
}

func reviewTick(ctx context.Context, e *env, f *reviewFlags) int {
	p, err := f.open(ctx, e, true)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	rep, err := p.svc.Tick(ctx)
	if err != nil {
		return fail(e, "review", err)
	}
	if f.format == "json" {
		return exitOn(e, "review", writeJSON(e.stdout, rep))
	}
	fmt.Fprintf(e.stdout, "reminded %d, escalated %d, defaulted %d, closed %d, outcomes %d, changed %d\n",
		rep.Reminded, rep.Escalated, rep.Defaulted, rep.Closed, rep.Outcomes, rep.Changed)
	return ExitOK
}

func reviewClose(ctx context.Context, e *env, f *reviewFlags, id, as string) int {
	p, err := f.open(ctx, e, false)
	if err != nil {
		return reviewFail(e, err)
	}
	defer p.Close()
	in, err := p.svc.Close(ctx, id, review.Actor{ID: as, Where: audit.WhereCLI})
	if err != nil {
		return fail(e, "review", err)
	}
	s := review.Summarize(in, p.now)
	fmt.Fprintf(e.stdout, "%s closed: %d items, %d decided by reviewers, %d default decisions\n", in.ID, s.Items, s.ByReviewers, s.Defaults)
	return ExitOK
}
