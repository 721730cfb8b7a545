package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/graph/store"
	"github.com/steward-oss/steward/slackbot"
)

func init() {
	register(command{"sync", "run every connector in the config file", runSync})
}

func runSync(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	cfgPath := fs.String("config", cmp.Or(e.configPath, "steward.yaml"), "configuration file")
	graphPath := fs.String("graph", "", "graph store (overrides the config file)")
	format := fs.String("format", "table", "table or json")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return usageErr(e, "sync", err.Error())
	}
	if *graphPath != "" {
		cfg.Graph = *graphPath
	}
	if len(cfg.Connectors) == 0 {
		return usageErr(e, "sync", *cfgPath+": no connectors configured")
	}
	tr, err := changeTracker(cfg)
	if err != nil {
		return usageErr(e, "sync", err.Error())
	}
	if err := syncAlerts(cfg, tr); err != nil {
		return usageErr(e, "sync", err.Error())
	}
	// Each run is recorded: when, what it loaded, or why it failed. The
	// log is opened first, so a sync that could not be audited never runs.
	alog, err := openAudit(cfg)
	if err != nil {
		return fail(e, "sync", err)
	}
	defer alog.Close()
	st, err := store.Open(ctx, cfg.Graph)
	if err != nil {
		return fail(e, "sync", err)
	}
	defer st.Close()
	// Each connector's record is written before its sources are replaced:
	// one that cannot be audited fails and changes nothing.
	results := inventory.SyncAudited(ctx, cfg.Connectors, st, connectors.Env{Logger: e.log, ReadFile: os.ReadFile}, time.Now, alog, audit.WhereCLI)
	failed := 0
	for _, r := range results {
		if r.Error != "" {
			failed++
		}
	}
	if failed < len(results) {
		// What changed since the previous sync, into the change history
		// (steward changes), alerted to Slack as serve's syncs are.
		inv, err := inventory.Open(ctx, st, inventory.Options{Logger: e.log, Derivers: derivers(e, cfg.Ownership.Overrides)})
		if err != nil {
			return fail(e, "sync", err)
		}
		recordChanges(ctx, tr, inv.Index(), e.log)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(results)
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CONNECTOR\tTYPE\tSOURCES\tNODES\tEDGES\tDURATION\tERROR")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", r.Connector, r.Type, len(r.Sources), r.Nodes, r.Edges, r.Duration.Round(time.Millisecond), r.Error)
		}
		tw.Flush()
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "steward sync: %d of %d connectors failed; their previous subgraphs were kept\n", failed, len(results))
		return ExitError
	}
	return ExitOK
}

// syncAlerts gives tr a Slack notifier when Slack and changes.alert_channel
// are configured, so a one-off sync alerts as serve's scheduled syncs do.
// A configured but empty bot token is an error before anything syncs.
func syncAlerts(cfg *config.Config, tr *changes.Tracker) error {
	if cfg.Slack.BotTokenEnv == "" || tr.Channel == "" {
		return nil
	}
	token := os.Getenv(cfg.Slack.BotTokenEnv)
	if token == "" {
		return fmt.Errorf("slack: %s is empty (changes.alert_channel needs the bot token)", cfg.Slack.BotTokenEnv)
	}
	a, err := slackbot.NewAlerter(token, cfg.Slack.APIURL, nil)
	if err != nil {
		return err
	}
	tr.Notifier = a
	return nil
}
