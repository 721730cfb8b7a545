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
	"os"
	"sort"
	"strings"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors/input"
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

// group describes a command made of subcommands (owner set|unset|list),
// so `steward CMD -h` and `steward help CMD` print its usage and exit 0
// instead of reading "-h" as a subcommand name.
type group struct {
	usage string
	subs  func() []string
}

// env is what every subcommand gets.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	// stdinTerminal/stderrTerminal tell whether progress may be drawn.
	stderrTerminal bool
	// stdoutTerminal tells whether tables may use colour and the
	// terminal's width.
	stdoutTerminal bool
	getenv         func(string) string
	// configPath is the global --config (else STEWARD_CONFIG); "" means
	// defaults and STEWARD_* variables only.
	configPath string
}

var (
	commands = map[string]command{}
	groups   = map[string]group{}
)

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("cli: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// registerGroup marks the registered command name as having subcommands.
func registerGroup(name string, g group) { groups[name] = g }

// Run runs the steward command line with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, isTerminal, os.Getenv)
}

func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, terminal func(io.Writer) bool, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, stderrTerminal: terminal(stderr), stdoutTerminal: terminal(stdout), getenv: getenv}
	e.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	args, cfgPath, err := extractConfig(args)
	if err != nil {
		fmt.Fprintf(stderr, "steward: %v\n", err)
		return ExitUsage
	}
	e.configPath = cfgPath
	if e.configPath == "" {
		e.configPath = getenv("STEWARD_CONFIG")
	}
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return ExitOK
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return ExitOK
		}
		// help CMD [SUB] is CMD [SUB] -h.
		if _, ok := commands[args[1]]; !ok {
			fmt.Fprintf(stderr, "steward help: unknown command %q\n\n", args[1])
			usage(stderr)
			return ExitUsage
		}
		return dispatch(ctx, e, append(append([]string(nil), args[1:]...), "-h"))
	case "-v", "--version", "-version":
		printVersion(e.stdout, readBuildInfo())
		return ExitOK
	}
	return dispatch(ctx, e, args)
}

func dispatch(ctx context.Context, e *env, args []string) int {
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "steward: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return ExitUsage
	}
	if g, ok := groups[c.name]; ok && (len(args) == 1 || isHelpArg(args[1])) {
		fmt.Fprintf(e.stderr, "%s\n\n%s\n", c.summary, g.usage)
		if g.subs != nil {
			fmt.Fprintf(e.stderr, "\nSubcommands: %s\nRun 'steward %s SUBCOMMAND -h' for its flags.\n", strings.Join(g.subs(), ", "), c.name)
		}
		if len(args) == 1 {
			return ExitUsage
		}
		return ExitOK
	}
	return c.run(ctx, e, args[1:])
}

func isHelpArg(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// extractConfig removes the global --config FILE (or --config=FILE) from
// args, wherever it stands before a "--", so every command takes it.
func extractConfig(args []string) ([]string, string, error) {
	var out []string
	path := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return nil, "", errors.New("--config needs a file")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.Index(a, "=")+1:]
		default:
			out = append(out, a)
		}
	}
	return out, path, nil
}

// config loads the configuration every command shares: the --config file
// (or STEWARD_CONFIG) with the STEWARD_* overlay, else defaults and the
// environment.
func (e *env) config() (*config.Config, error) {
	load := func() (*config.Config, error) { return config.FromEnv(e.getenv) }
	if e.configPath != "" {
		load = func() (*config.Config, error) { return config.Load(e.configPath, e.getenv) }
	}
	cfg, err := load()
	if err == nil { // the input limits every connector of this run uses
		input.SetDefault(input.Limits{File: cfg.Input.MaxFileBytes, Field: cfg.Input.MaxFieldBytes})
	}
	return cfg, err
}

// defaultGraph is the graph store a command uses when neither --graph nor
// --demo is given: STEWARD_GRAPH, else the config file's graph:, else
// ./steward.db.
func (e *env) defaultGraph() (string, error) {
	cfg, err := e.config()
	if err != nil {
		return "", err
	}
	return cfg.Graph, nil
}

// defaultAuditLog is the audit log a command uses without --log:
// STEWARD_AUDIT_LOG, else the config file's audit_log:, else
// ./steward-audit.log.
func (e *env) defaultAuditLog() (string, error) {
	cfg, err := e.config()
	if err != nil {
		return "", err
	}
	return cfg.AuditLog, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "steward governs non-human identities.\n\nUsage: steward <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nGlobal flags: --config FILE (default $STEWARD_CONFIG), --version.")
	fmt.Fprintln(w, "Run 'steward help <command>' or 'steward <command> -h' for a command's flags.")
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
