package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/steward-oss/steward/audit"
)

// DefaultAuditLog is the audit log used when --log is not given.
const DefaultAuditLog = "./steward-audit.log"

func init() {
	register(command{"audit", "verify or export the hash-chained audit log", runAudit})
}

func runAudit(_ context.Context, e *env, args []string) int {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export" && args[0] != "head") {
		fmt.Fprintln(e.stderr, "Usage: steward audit verify [--log PATH] [--anchor FILE] | audit export [--log PATH] | audit head [--log PATH]")
		return ExitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	path := fs.String("log", "", "audit log file (default: STEWARD_AUDIT_LOG, the config's audit_log:, else "+DefaultAuditLog+")")
	anchor := fs.String("anchor", "", "with verify: a head anchor (JSON from 'audit head') the log must still contain, to detect a cut tail")
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	if *path == "" {
		def, err := e.defaultAuditLog()
		if err != nil {
			return usageErr(e, "audit "+sub, err.Error())
		}
		*path = def
	}
	switch sub {
	case "verify":
		var n int
		var err error
		if *anchor != "" {
			data, rerr := os.ReadFile(*anchor)
			if rerr != nil {
				return fail(e, "audit verify", rerr)
			}
			var a audit.Anchor
			if rerr := json.Unmarshal(data, &a); rerr != nil {
				return usageErr(e, "audit verify", fmt.Sprintf("--anchor %s: %v", *anchor, rerr))
			}
			n, err = audit.VerifyFileAnchor(*path, a)
		} else {
			n, err = audit.VerifyFile(*path)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "steward audit verify: %s: FAILED after %d good records: %v\n", *path, n, err)
			return ExitError
		}
		fmt.Fprintf(e.stdout, "%s: %d records, chain intact\n", *path, n)
	case "export":
		if _, err := audit.ExportFile(*path, e.stdout); err != nil {
			return fail(e, "audit export", err)
		}
	case "head":
		a, err := audit.HeadFile(*path)
		if err != nil {
			return fail(e, "audit head", err)
		}
		enc := json.NewEncoder(e.stdout)
		enc.Encode(a)
	}
	return ExitOK
}
