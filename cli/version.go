package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version is the release version, set at build time with
//
//	go build -ldflags "-X github.com/steward-oss/steward/cli.Version=v1.2.3"
//
// When empty, the module version from the build info is used ("(devel)"
// for a local build).
var Version = ""

func init() {
	register(command{"version", "print the version and build information", runVersion})
}

// buildInfo is what `steward version -o json` prints: a contract, fields
// are only added.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	CommitAt  string `json:"commit_time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
	Module    string `json:"module,omitempty"`
}

func readBuildInfo() buildInfo {
	bi := buildInfo{Version: Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if ok {
		bi.Module = info.Main.Path
		if bi.Version == "" {
			bi.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				bi.Commit = s.Value
			case "vcs.time":
				bi.CommitAt = s.Value
			case "vcs.modified":
				bi.Modified = s.Value == "true"
			}
		}
	}
	if bi.Version == "" {
		bi.Version = "(devel)"
	}
	return bi
}

// printVersion is the one line of `steward --version`.
func printVersion(w io.Writer, bi buildInfo) {
	commit := ""
	if bi.Commit != "" {
		c := bi.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		commit = " " + c
		if bi.Modified {
			commit += "-dirty"
		}
	}
	fmt.Fprintf(w, "steward %s%s (%s, %s)\n", bi.Version, commit, bi.GoVersion, bi.Platform)
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	var format string
	fs.StringVar(&format, "format", "text", "output format: text or json")
	fs.StringVar(&format, "o", "text", "shorthand for --format")
	fs.StringVar(&format, "output", "text", "same as --format")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageErr(e, "version", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	bi := readBuildInfo()
	switch format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return exitOn(e, "version", enc.Encode(bi))
	case "text", "table":
		fmt.Fprintf(e.stdout, "version:    %s\n", bi.Version)
		if bi.Commit != "" {
			fmt.Fprintf(e.stdout, "commit:     %s\n", bi.Commit)
			fmt.Fprintf(e.stdout, "commit at:  %s\n", bi.CommitAt)
			fmt.Fprintf(e.stdout, "modified:   %t\n", bi.Modified)
		}
		fmt.Fprintf(e.stdout, "go:         %s\n", bi.GoVersion)
		fmt.Fprintf(e.stdout, "platform:   %s\n", bi.Platform)
		return ExitOK
	}
	return usageErr(e, "version", fmt.Sprintf("--format must be text or json, got %q", format))
}
