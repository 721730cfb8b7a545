package cli

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/internal/secret"
)

func init() {
	register(command{"config", "check a configuration file (steward config validate)", runConfig})
	registerGroup("config", group{
		usage: "Usage: steward config validate [FILE]   (default: --config, STEWARD_CONFIG, else steward.yaml)",
		subs:  func() []string { return []string{"validate"} },
	})
}

func runConfig(_ context.Context, e *env, args []string) int {
	if args[0] != "validate" {
		return usageErr(e, "config", fmt.Sprintf("unknown subcommand %q (want validate)", args[0]))
	}
	fs := flag.NewFlagSet("config validate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: steward config validate [FILE]\n\nStrict decode (unknown keys are errors naming the line), the STEWARD_* overlay,\nfield validation, and every connector's type and options checked against the\nregistered connectors. Prints the effective graph, audit log and listen address.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	path := e.configPath
	switch fs.NArg() {
	case 0:
	case 1:
		path = fs.Arg(0)
	default:
		return usageErr(e, "config validate", "want at most one FILE")
	}
	if path == "" {
		path = "steward.yaml"
	}
	cfg, err := config.Load(path, e.getenv)
	if err != nil {
		return usageErr(e, "config validate", err.Error())
	}
	if err := checkConnectors(cfg); err != nil {
		return usageErr(e, "config validate", fmt.Sprintf("config: %s: %v", path, err))
	}
	fmt.Fprintf(e.stdout, "%s: ok: %d connectors, %d API keys; graph %s, audit log %s, listen %s\n",
		path, len(cfg.Connectors), len(cfg.APIKeys), secret.MaskDSN(cfg.Graph), cfg.AuditLog, cfg.Listen)
	return ExitOK
}

// checkConnectors checks each configured connector against the registry
// without building it (building may reach the network): a known type,
// known option names, the required ones present.
func checkConnectors(cfg *config.Config) error {
	for i, c := range cfg.Connectors {
		f := fmt.Sprintf("connectors[%d]", i)
		reg, ok := connectors.Lookup(c.Type)
		if !ok {
			return &config.FieldError{Field: f + ".type", Msg: fmt.Sprintf("unknown connector %q (known: %s)", c.Type, strings.Join(connectors.Names(), ", "))}
		}
		known := map[string]bool{}
		for _, o := range reg.Options {
			known[o.Name] = true
			if o.Required && c.Options[o.Name] == "" {
				return &config.FieldError{Field: f + ".options." + o.Name, Msg: "required by the " + c.Type + " connector"}
			}
		}
		keys := make([]string, 0, len(c.Options))
		for k := range c.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !known[k] {
				return &config.FieldError{Field: f + ".options." + k, Msg: "unknown option of the " + c.Type + " connector"}
			}
		}
	}
	return nil
}
