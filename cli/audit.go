package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
)

// DefaultAuditLog is the audit log used when --log is not given.
const DefaultAuditLog = "./steward-audit.log"

func init() {
	register(command{"audit", "verify or export the hash-chained audit log", runAudit})
}

// openAudit opens the configured audit log for appending, with the audit
// key (when configured) and the checkpoint file, so every writer — serve,
// sync, load, ask — extends the log the same way.
func openAudit(cfg *config.Config) (*audit.Log, error) {
	key, err := cfg.AuditKey(os.ReadFile)
	if err != nil {
		return nil, err
	}
	opts := []audit.Option{audit.WithCheckpoint(cfg.AuditAnchorPath())}
	if key != nil {
		opts = append(opts, audit.WithKey(key))
	}
	return audit.Open(cfg.AuditLog, opts...)
}

// questionAuditLog is the audit log ask and query write: flagPath
// (--audit-log), else STEWARD_AUDIT_LOG or the config's audit_log:, else
// steward-audit.log beside a bolt graph, the rule load follows (with the
// default paths, the log serve writes too). A question over a real
// inventory is never unaudited. Only the in-memory demo graph, with no
// log named anywhere, returns "": its data is synthetic.
func questionAuditLog(e *env, flagPath string, g *graphFlags) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if e.configPath != "" || e.getenv("STEWARD_AUDIT_LOG") != "" {
		return e.defaultAuditLog()
	}
	if g.demo {
		return "", nil
	}
	graphPath := g.path
	if graphPath == "" {
		var err error
		if graphPath, err = e.defaultGraph(); err != nil {
			return "", err
		}
	}
	if strings.Contains(graphPath, "://") {
		return e.defaultAuditLog()
	}
	return filepath.Join(filepath.Dir(graphPath), filepath.Base(DefaultAuditLog)), nil
}

// openAuditPath is openAudit for a log named by a flag, with the key and
// anchor from the shared configuration.
func openAuditPath(e *env, path string) (*audit.Log, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	if cfg.AuditAnchor == "" || cfg.AuditLog != path {
		cfg.AuditAnchor = path + ".anchor"
	}
	cfg.AuditLog = path
	return openAudit(cfg)
}

func runAudit(_ context.Context, e *env, args []string) int {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export" && args[0] != "head") {
		fmt.Fprintln(e.stderr, "Usage: steward audit verify [--log PATH] [--anchor FILE] [--key-file FILE] | audit export [--log PATH] | audit head [--log PATH] [--key-file FILE]")
		return ExitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	path := fs.String("log", "", "audit log file (default: STEWARD_AUDIT_LOG, the config's audit_log:, else "+DefaultAuditLog+")")
	anchor := fs.String("anchor", "", "with verify: a checkpoint or head anchor the log must still reach (default: the log's checkpoint file, when it exists)")
	keyFile := fs.String("key-file", "", "audit key file (default: STEWARD_AUDIT_KEY, else the config's audit_key_file:)")
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	cfg, err := e.config()
	if err != nil {
		return usageErr(e, "audit "+sub, err.Error())
	}
	if *path != "" {
		if *path != cfg.AuditLog && cfg.AuditAnchor == "" {
			cfg.AuditAnchor = *path + ".anchor"
		}
		cfg.AuditLog = *path
	}
	if *keyFile != "" {
		cfg.AuditKeyFile = *keyFile
	}
	key, err := cfg.AuditKey(os.ReadFile)
	if err != nil {
		return usageErr(e, "audit "+sub, err.Error())
	}
	switch sub {
	case "verify":
		o := audit.VerifyOptions{Key: key}
		anchorPath := *anchor
		if anchorPath == "" {
			if _, serr := os.Stat(cfg.AuditAnchorPath()); serr == nil {
				anchorPath = cfg.AuditAnchorPath()
			}
		}
		if anchorPath != "" {
			a, rerr := audit.ReadAnchor(anchorPath)
			if rerr != nil {
				if errors.Is(rerr, os.ErrNotExist) {
					return fail(e, "audit verify", rerr)
				}
				return usageErr(e, "audit verify", rerr.Error())
			}
			o.Anchor = &a
		}
		res, err := audit.VerifyFileWith(cfg.AuditLog, o)
		if err != nil {
			fmt.Fprintf(e.stderr, "steward audit verify: %s: FAILED after %d good records: %v\n", cfg.AuditLog, res.Records, err)
			return ExitError
		}
		msg := fmt.Sprintf("%s: %d records, chain intact", cfg.AuditLog, res.Records)
		if key != nil {
			msg += fmt.Sprintf(", %d MACs valid", res.MACs)
		}
		if res.Anchored {
			msg += fmt.Sprintf(", reaches the anchor (seq %d, %s)", o.Anchor.Seq, anchorPath)
		}
		fmt.Fprintln(e.stdout, msg)
		if key == nil {
			fmt.Fprintln(e.stderr, "steward audit verify: warning: no audit key (STEWARD_AUDIT_KEY or audit_key_file): records are not authenticated, a forged record with a recomputed hash would pass")
		}
		if o.Anchor == nil {
			fmt.Fprintln(e.stderr, "steward audit verify: warning: no anchor: records cut from the end would not be seen")
		}
	case "export":
		if _, err := audit.ExportFile(cfg.AuditLog, e.stdout); err != nil {
			return fail(e, "audit export", err)
		}
	case "head":
		a, err := audit.HeadFileWith(cfg.AuditLog, key, time.Now())
		if err != nil {
			return fail(e, "audit head", err)
		}
		enc := json.NewEncoder(e.stdout)
		enc.Encode(a)
	}
	return ExitOK
}
