package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

func init() {
	register(command{"ask", "answer a question about the identity graph", runAsk})
	register(command{"query", "run a query plan (JSON) against the identity graph", runQuery})
}

func runAsk(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, true)
	var out outputFlags
	out.register(fs)
	var lim limitFlags
	lim.register(fs)
	auditLog := fs.String("audit-log", "", "audit log for the question (default: STEWARD_AUDIT_LOG, the config's audit_log:, else steward-audit.log beside the graph)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, `Usage: steward ask [--demo | --graph PATH] [--now RFC3339] [--format table|json|csv] [--limit N | --all] "QUESTION"`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	question := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if question == "" {
		fs.Usage()
		return ExitUsage
	}
	if err := validateFlags(&g, &out, &lim); err != nil {
		return usageErr(e, "ask", err.Error())
	}
	if msg, ok := noGraph(e, &g); ok {
		fmt.Fprintln(e.stderr, msg)
		return ExitUsage
	}
	// The graph opens first: the planner resolves the names a question
	// mentions against it ("the terraform user" is one identity, "role
	// terraform-apply in staging" one of several).
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "ask", err)
	}
	defer inv.Close()
	ix := inv.Index()
	var plan *query.Plan
	u, err := planner.Understand(question, nil, planner.Options{Resolver: planner.IndexResolver(ix), Now: g.nowAt})
	if err == nil {
		plan = u.Plan
		for _, c := range u.Corrections {
			out.corrections = append(out.corrections, c.String())
		}
	}
	// Audited before it is answered; a question that cannot be recorded
	// is not answered (fail closed, as in serve).
	if path, aerr := questionAuditLog(e, *auditLog, &g); aerr != nil {
		return fail(e, "ask", aerr)
	} else if path != "" {
		if aerr := auditQuestion(ctx, e, path, "question", question, plan, err); aerr != nil {
			return fail(e, "ask", aerr)
		}
	}
	if err != nil {
		var um *planner.UnmappedError
		if errors.As(err, &um) {
			// With a model configured, the question the planner could
			// not fully map goes to the model, through the same read
			// tools; without one, the refusal stands.
			mp, how, merr := askModel(ctx, e, ix, g.nowAt, changeHistory(e, &g), question, um)
			switch {
			case merr != nil:
				return fail(e, "ask", merr)
			case mp != nil:
				lim.apply(mp)
				out.interpretation = planner.Describe(mp, planner.DescribeOptions{Rows: true}) + "; " + how
				return executePlan(ctx, e, "ask", ix, &g, &out, question, mp)
			case how != "":
				fmt.Fprintln(e.stderr, how)
				return ExitError
			}
			fmt.Fprintln(e.stderr, um.Error())
			return ExitError
		}
		return fail(e, "ask", err)
	}
	lim.apply(plan)
	out.interpretation = planner.Describe(plan, planner.DescribeOptions{Rows: true})
	return executePlan(ctx, e, "ask", ix, &g, &out, question, plan)
}

// limitFlags are --limit N and --all: how many rows an answer shows.
type limitFlags struct {
	limit int
	all   bool
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.limit, "limit", 0, fmt.Sprintf("show at most N rows (default %d; at most %d)", query.DefaultLimit, query.MaxLimit))
	fs.BoolVar(&l.all, "all", false, fmt.Sprintf("show every row (up to %d)", query.MaxLimit))
}

func (l *limitFlags) validate() error {
	switch {
	case l.all && l.limit != 0:
		return fmt.Errorf("--limit and --all are exclusive")
	case l.limit < 0 || l.limit > query.MaxLimit:
		return fmt.Errorf("--limit must be between 1 and %d, got %d", query.MaxLimit, l.limit)
	}
	return nil
}

// apply sets the plan's row limit from the flags; without them the plan
// keeps its own ("top 5") or the default.
func (l *limitFlags) apply(p *query.Plan) {
	switch {
	case l.all:
		p.Limit = query.MaxLimit
	case l.limit > 0:
		p.Limit = l.limit
	}
}

// noGraph reports, for commands that only read the graph, a bolt store
// that does not exist: opening it would create an empty file and answer
// every question with 0 rows.
func noGraph(e *env, g *graphFlags) (string, bool) {
	if g.demo {
		return "", false
	}
	uri := g.path
	if uri == "" {
		def, err := e.defaultGraph()
		if err != nil {
			return "", false // open reports the configuration error
		}
		uri = def
	}
	if uri == "" || uri == "memory" || strings.Contains(uri, "://") {
		return "", false
	}
	if _, err := os.Stat(uri); !errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	return fmt.Sprintf("no graph at %s: load a source first (steward load …) or use --demo", uri), true
}

// auditQuestion records who asked what from the command line, and the
// plan it became (or why it did not).
func auditQuestion(ctx context.Context, e *env, path, action, question string, plan *query.Plan, perr error) error {
	l, err := openAuditPath(e, path)
	if err != nil {
		return err
	}
	defer l.Close()
	rec := audit.Record{Actor: "cli:" + os.Getenv("USER"), Action: action, Target: "cli", Where: "cli", Outcome: "planned",
		Details: map[string]string{}}
	if question != "" {
		rec.Details["question"] = question
	}
	if plan != nil {
		b, _ := json.Marshal(plan)
		rec.Details["plan"] = string(b)
	}
	if perr != nil {
		rec.Outcome = "not_mapped"
	}
	_, err = l.Append(ctx, audit.MaskRecord(rec)) // a pasted key is recorded masked
	return err
}

func runQuery(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, true)
	var out outputFlags
	out.register(fs)
	var lim limitFlags
	lim.register(fs)
	planFile := fs.String("plan", "", "query plan JSON file (- for stdin)")
	auditLog := fs.String("audit-log", "", "audit log for the plan run (default: STEWARD_AUDIT_LOG, the config's audit_log:, else steward-audit.log beside the graph)")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if *planFile == "" {
		return usageErr(e, "query", "--plan FILE.json is required")
	}
	if err := validateFlags(&g, &out, &lim); err != nil {
		return usageErr(e, "query", err.Error())
	}
	if msg, ok := noGraph(e, &g); ok {
		fmt.Fprintln(e.stderr, msg)
		return ExitUsage
	}
	var data []byte
	var err error
	if *planFile == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(*planFile)
	}
	if err != nil {
		return fail(e, "query", err)
	}
	plan, err := query.Parse(data)
	if err != nil {
		return fail(e, "query", fmt.Errorf("%s: %w", *planFile, err))
	}
	lim.apply(plan)
	// Every plan run is audited first, as ask's questions are.
	if path, aerr := questionAuditLog(e, *auditLog, &g); aerr != nil {
		return fail(e, "query", aerr)
	} else if path != "" {
		if aerr := auditQuestion(ctx, e, path, "query", "", plan, nil); aerr != nil {
			return fail(e, "query", aerr)
		}
	}
	out.interpretation = planner.Describe(plan, planner.DescribeOptions{Rows: true})
	return runPlan(ctx, e, "query", &g, &out, "", plan)
}

func runPlan(ctx context.Context, e *env, cmd string, g *graphFlags, out *outputFlags, question string, plan *query.Plan) int {
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, cmd, err)
	}
	defer inv.Close()
	return executePlan(ctx, e, cmd, inv.Index(), g, out, question, plan)
}

// executePlan runs plan on ix and writes the answer.
func executePlan(ctx context.Context, e *env, cmd string, ix *graph.Index, g *graphFlags, out *outputFlags, question string, plan *query.Plan) int {
	if plan.Changes != nil {
		return executeChanges(ctx, e, cmd, ix, g, out, question, plan)
	}
	res, err := query.Execute(ctx, ix, plan, g.nowAt)
	if err != nil {
		return fail(e, cmd, err)
	}
	out.stderr = e.stderr
	if err := out.write(e.stdout, question, g.nowAt, res); err != nil {
		return fail(e, cmd, err)
	}
	return ExitOK
}

// askModel hands a question the offline planner refused to the configured
// model. It returns the model's plan (validated) and a note saying who
// planned it; no plan and a note when the model declined too; nothing
// when no model is configured or the planner refused an action, which no
// model may take.
func askModel(ctx context.Context, e *env, ix *graph.Index, now time.Time, hist tools.ChangeHistory, question string, um *planner.UnmappedError) (*query.Plan, string, error) {
	if len(um.Unknown) == 0 && strings.Contains(um.Reason, "is an action") {
		return nil, "", nil
	}
	cfg, err := e.config()
	if err != nil {
		return nil, "", err
	}
	mc := agent.Config{Provider: cfg.Agent.Provider, BaseURL: cfg.Agent.BaseURL, Model: cfg.Agent.Model,
		APIKeyEnv: cfg.Agent.APIKeyEnv, MaxSteps: cfg.Agent.MaxSteps, MaxTokens: cfg.Agent.MaxTokens,
		Timeout: time.Duration(cfg.Agent.Timeout)}
	if mc.Offline() {
		return nil, "", nil
	}
	a, err := agent.FromConfig(ctx, mc, e.getenv, agent.Options{Logger: e.log})
	if err != nil {
		return nil, "", err
	}
	ans, err := a.Ask(ctx, &tools.Env{Index: ix, Now: now, Actor: "cli:" + os.Getenv("USER"), Changes: hist}, agent.Question{Text: question})
	if err != nil && ans == nil {
		return nil, "", fmt.Errorf("model: %w", err)
	}
	who := "planned by the model " + mc.Provider + "/" + mc.Model + " (the offline planner could not map every word)"
	if ans.Plan == nil {
		msg := "The offline planner refused and the model gave no query plan."
		if t := strings.TrimSpace(tools.MaskSecrets(ans.Text)); t != "" {
			msg += " The model said: " + t
		}
		return nil, msg + "\n" + um.Error(), nil
	}
	p := *ans.Plan
	// The tools validated it; validate again, as for any plan from
	// outside: a model's plan is data.
	if err := p.Validate(); err != nil {
		return nil, "", fmt.Errorf("model plan: %w", err)
	}
	return &p, who, nil
}
