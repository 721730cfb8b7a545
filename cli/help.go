package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/steward-oss/steward/connectors"
)

// The commands made of subcommands. Their own files parse the
// subcommand; this table is what help and completion know of them.
func init() {
	registerGroup("owner", group{
		usage: "Usage: steward owner set IDENTITY EMAIL --reason TEXT | owner unset IDENTITY | owner list  [--owners FILE]",
		subs:  func() []string { return []string{"set", "unset", "list"} },
	})
	registerGroup("audit", group{
		usage: "Usage: steward audit verify [--log PATH] [--anchor FILE] | audit export [--log PATH] | audit head [--log PATH]",
		subs:  func() []string { return []string{"verify", "export", "head"} },
	})
	registerGroup("load", group{
		usage: "Usage: steward load NAME [connector flags] [--graph PATH]",
		subs:  connectors.Names,
	})
}

// commandNames lists the registered commands, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// commandLines are every command and subcommand as argument lists
// ("ask", "owner set", "load aws"), the set help and completion cover.
func commandLines() [][]string {
	var out [][]string
	for _, n := range commandNames() {
		g, ok := groups[n]
		if !ok || g.subs == nil {
			out = append(out, []string{n})
			continue
		}
		for _, s := range g.subs() {
			out = append(out, []string{n, s})
		}
	}
	return out
}

var flagLine = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][-A-Za-z0-9_.]*)`)

// flagsOf lists the flags of the command line cl, read from its own -h
// output so completion can never drift from the flag sets.
func flagsOf(ctx context.Context, e *env, cl []string) []string {
	var buf bytes.Buffer
	sub := &env{stdout: io.Discard, stderr: &buf, getenv: e.getenv, configPath: e.configPath,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	dispatch(ctx, sub, append(append([]string(nil), cl...), "-h"))
	seen := map[string]bool{"config": true}
	out := []string{"--config"}
	for _, m := range flagLine.FindAllStringSubmatch(buf.String(), -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		if len(m[1]) == 1 {
			out = append(out, "-"+m[1])
		} else {
			out = append(out, "--"+m[1])
		}
	}
	sort.Strings(out)
	return out
}

// summaryWord keeps a summary safe inside a single-quoted shell string.
func summaryWord(s string) string { return strings.ReplaceAll(s, "'", "") }
