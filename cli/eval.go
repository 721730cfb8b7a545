package cli

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/eval"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/tools"
)

func init() {
	register(command{"eval", "measure question-answering accuracy on the demo organisation", runEval})
}

func runEval(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	split := fs.String("split", "all", "question split: dev, tuned, heldout or all")
	format := fs.String("format", "table", "output format: table or json")
	seed := fs.Int64("seed", defaultDemoSeed, "demo generator seed")
	size := fs.Int("size", defaultDemoSize, "demo size in non-human identities")
	resolve := fs.Bool("resolver", true, "offline: resolve entity names against the graph (planner.PlanWith); false plans as planner.Plan does")
	llm := fs.Bool("llm", false, "answer with the configured model through the agent instead of the offline planner")
	var mc agent.Config
	fs.StringVar(&mc.Provider, "provider", os.Getenv("STEWARD_LLM_PROVIDER"), "model provider with --llm (openai, azure, anthropic, bedrock, gemini, ollama; env STEWARD_LLM_PROVIDER)")
	fs.StringVar(&mc.BaseURL, "base-url", os.Getenv("STEWARD_LLM_BASE_URL"), "model endpoint with --llm (env STEWARD_LLM_BASE_URL)")
	fs.StringVar(&mc.Model, "model", os.Getenv("STEWARD_LLM_MODEL"), "model id with --llm (env STEWARD_LLM_MODEL)")
	fs.StringVar(&mc.APIKeyEnv, "api-key-env", os.Getenv("STEWARD_LLM_API_KEY_ENV"), "name of the environment variable holding the API key (env STEWARD_LLM_API_KEY_ENV)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: steward eval [--split dev|tuned|heldout|all] [--format table|json] [--seed N] [--size N] [--llm --provider P --model M ...]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageErr(e, "eval", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	switch *split {
	case eval.SplitDev, eval.SplitTuned, eval.SplitHeldout, "all":
	default:
		return usageErr(e, "eval", fmt.Sprintf("--split: want dev, tuned, heldout or all, got %q", *split))
	}
	if *format != "table" && *format != "json" {
		return usageErr(e, "eval", fmt.Sprintf("--format: want table or json, got %q", *format))
	}
	g := graphFlags{demo: true, seed: *seed, size: *size, overrides: ""}
	if err := g.validate(); err != nil {
		return usageErr(e, "eval", err.Error())
	}
	cases, err := eval.Load()
	if err != nil {
		return fail(e, "eval", err)
	}
	if *split != "all" {
		kept := cases[:0]
		for _, c := range cases {
			if c.Split == *split {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "eval", err)
	}
	defer inv.Close()
	ix := inv.Index()
	var ans eval.Answerer = eval.Offline{Now: g.nowAt}
	// Change questions are scored on the demo's fixed change history.
	hist := demoChanges(g.seed, g.size)
	mode := "offline"
	if *resolve {
		ans, mode = eval.Offline{Resolver: planner.IndexResolver(ix), Now: g.nowAt}, "offline+resolver"
	}
	if *llm {
		if mc.Offline() {
			return usageErr(e, "eval", "--llm needs a model: set --provider and --model (or STEWARD_LLM_PROVIDER, STEWARD_LLM_MODEL)")
		}
		a, err := agent.FromConfig(ctx, mc, os.Getenv, agent.Options{Logger: e.log})
		if err != nil {
			return usageErr(e, "eval", err.Error())
		}
		ans = &eval.Agent{Agent: a, Env: &tools.Env{Index: ix, Now: g.nowAt, Actor: "steward-eval", Changes: hist}}
		mode = "llm:" + mc.Provider + "/" + mc.Model
	}
	results, err := eval.RunHistory(ctx, ix, g.nowAt, hist, cases, ans)
	if err != nil {
		return fail(e, "eval", err)
	}
	rep := eval.Summarise(mode, results)
	if *format == "json" {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteTable(e.stdout)
	}
	if err != nil {
		return fail(e, "eval", err)
	}
	return ExitOK
}
