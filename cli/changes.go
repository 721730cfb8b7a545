package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
)

func init() {
	register(command{"changes", "what changed between syncs: identities, admins, escalation paths, credentials, owners, grants", runChanges})
}

// DefaultChangesDir holds the last sync's snapshot and the change history
// when changes.dir is unset and the graph is not a file (next to which
// steward-changes goes otherwise).
const DefaultChangesDir = "./steward-changes"

// changeTracker is the tracker the config describes.
func changeTracker(cfg *config.Config) (*changes.Tracker, error) {
	if err := changes.ValidateAlerts(cfg.Changes.AlertOn); err != nil {
		return nil, fmt.Errorf("changes.alert_on: %w", err)
	}
	return &changes.Tracker{Dir: changesDir(cfg), Channel: cfg.Changes.AlertChannel, AlertOn: cfg.Changes.AlertOn}, nil
}

// changesDir is changes.dir, or steward-changes next to a file graph
// store, or DefaultChangesDir.
func changesDir(cfg *config.Config) string {
	if cfg.Changes.Dir != "" {
		return cfg.Changes.Dir
	}
	if cfg.Graph != "" && !strings.Contains(cfg.Graph, "://") && cfg.Graph != "memory" {
		return filepath.Join(filepath.Dir(cfg.Graph), "steward-changes")
	}
	return DefaultChangesDir
}

// recordChanges compares the index after a sync with the previous one; a
// failure is logged, never fatal: the sync itself succeeded.
func recordChanges(ctx context.Context, t *changes.Tracker, ix *graph.Index, log *slog.Logger) {
	if t == nil {
		return
	}
	cs, err := t.Record(ctx, ix, time.Now().UTC())
	if err != nil {
		log.Warn("change tracking failed", "dir", t.Dir, "err", err)
		return
	}
	log.Info("changes since the last sync", "count", len(cs))
}

func runChanges(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("changes", flag.ContinueOnError)
	var o outputFlags
	o.register(fs)
	since := fs.String("since", "24h", "changes recorded at or after this: a duration back from now (24h, 7d) or an RFC 3339 time")
	dir := fs.String("dir", "", "change history directory (default: changes.dir of the config file, else "+DefaultChangesDir+")")
	cfgPath := fs.String("config", e.configPath, "configuration file (for changes.dir)")
	pos, code, ok := parseInterspersed(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return usageErr(e, "changes", "takes no arguments")
	}
	if err := o.validate(); err != nil {
		return usageErr(e, "changes", err.Error())
	}
	from, err := parseSince(*since, time.Now().UTC())
	if err != nil {
		return usageErr(e, "changes", err.Error())
	}
	d := *dir
	if d == "" {
		path := *cfgPath
		if path == "" {
			if _, err := os.Stat("steward.yaml"); err == nil {
				path = "steward.yaml"
			}
		}
		if path != "" {
			cfg, err := config.Load(path, os.Getenv)
			if err != nil {
				return usageErr(e, "changes", err.Error())
			}
			d = changesDir(cfg)
		}
		d = cmp.Or(d, DefaultChangesDir)
	}
	cs, err := changes.History(d, from)
	if err != nil {
		return fail(e, "changes", err)
	}
	switch o.format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return exitOn(e, "changes", enc.Encode(map[string]any{"since": from.Format(time.RFC3339), "changes": cs, "total": len(cs)}))
	case "yaml":
		return exitOn(e, "changes", writeYAML(e.stdout, map[string]any{"since": from.Format(time.RFC3339), "changes": cs, "total": len(cs)}))
	}
	header := []string{"at", "source", "type", "identity", "name", "detail"}
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, []string{c.At.Format(time.RFC3339), c.Source, c.Type, c.Identity, c.Name, c.Detail})
	}
	if o.format == "csv" {
		return exitOn(e, "changes", writeCSV(e, &o, header, rows))
	}
	st := styleFor(e.stdout, isTerminal, os.Getenv)
	st.wide, st.noHeaders = o.wide, o.noHeaders
	_, err = renderTable(e.stdout, header, rows, st)
	return exitOn(e, "changes", err)
}

// parseSince reads "24h", "7d" (back from now) or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("--since: want a duration such as 24h or 7d, or an RFC 3339 time, got %q", s)
	}
	return now.Add(-d), nil
}
