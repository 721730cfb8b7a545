// Package cli is the steward command line. Run is the whole program, so
// tests drive every subcommand in-process; cmd/steward only calls it.
//
// Data goes to stdout, everything else to stderr. Exit codes: 0 ok,
// 1 error, 2 usage or configuration error, 3 findings (check commands).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitFindings = 3
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what every subcommand gets.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	// stdinTerminal/stderrTerminal tell whether progress may be drawn.
	stderrTerminal bool
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("cli: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// Run runs the steward command line with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, stderrTerminal: isTerminal(stderr)}
	e.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "steward: unknown command %q\n\n", args[0])
		usage(stderr)
		return ExitUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "steward governs non-human identities.\n\nUsage: steward <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'steward <command> -h' for a command's flags.")
}

// parseFlags parses fs, printing errors; ok=false means return code.
func parseFlags(fs *flag.FlagSet, e *env, args []string) (int, bool) {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	return 0, true
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments ("owner set ID EMAIL --reason R"), which the flag
// package alone stops at; it returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, e *env, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if code, ok := parseFlags(fs, e, args); !ok {
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// fail prints err as "steward CMD: err" and returns ExitError.
func fail(e *env, cmd string, err error) int {
	fmt.Fprintf(e.stderr, "steward %s: %s\n", cmd, strings.TrimSpace(err.Error()))
	return ExitError
}

func usageErr(e *env, cmd, msg string) int {
	fmt.Fprintf(e.stderr, "steward %s: %s\n", cmd, msg)
	return ExitUsage
}
