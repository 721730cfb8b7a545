package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/metrics"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/web"
)

func init() {
	register(command{"serve", "run the HTTP API (and scheduled syncs)", runServe})
}

func runServe(ctx context.Context, e *env, args []string) int {
	cfg, g, code, ok := serveConfig(e, args)
	if !ok {
		return code
	}
	e.log = slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := &serving{cfg: cfg, g: g, log: e.log}
	defer s.close()
	if err := s.open(ctx, e); err != nil {
		return serveFail(e, err)
	}
	parts, err := s.build(ctx)
	if err != nil {
		return serveFail(e, err)
	}
	if err := runParts(ctx, parts); err != nil {
		return fail(e, "serve", err)
	}
	return ExitOK
}

// serveConfig parses serve's flags over the configuration (file or
// environment): flags win over both.
func serveConfig(e *env, args []string) (*config.Config, *graphFlags, int, bool) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	g := &graphFlags{}
	g.register(fs, true)
	listen := fs.String("listen", "", "address to listen on (default from config, else 127.0.0.1:8080)")
	cfgPath := fs.String("config", e.configPath, "configuration file (steward.yaml)")
	if code, ok := parseFlags(fs, e, args); !ok {
		return nil, nil, code, false
	}
	var cfg *config.Config
	var err error
	if *cfgPath != "" {
		cfg, err = config.Load(*cfgPath, os.Getenv)
	} else {
		cfg, err = config.FromEnv(os.Getenv)
	}
	if err != nil {
		return nil, nil, usageErr(e, "serve", err.Error()), false
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if g.path == "" && !g.demo {
		g.path = cfg.Graph
	}
	if err := g.validate(); err != nil {
		return nil, nil, usageErr(e, "serve", err.Error()), false
	}
	if len(cfg.APIKeys) == 0 {
		return nil, nil, usageErr(e, "serve", "no API keys: set api_keys in the config file or STEWARD_API_KEYS (every endpoint but /healthz needs one)"), false
	}
	return cfg, g, 0, true
}

// serveFail reports a configuration mistake as a usage error and anything
// else as a failure.
func serveFail(e *env, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return usageErr(e, "serve", ue.msg)
	}
	return fail(e, "serve", err)
}

// serving holds what `steward serve` opened; close releases it in reverse.
type serving struct {
	cfg     *config.Config
	g       *graphFlags
	log     *slog.Logger
	inv     *inventory.Inventory
	alog    *audit.Log
	rem     *remediationParts
	closers []func()
}

func (s *serving) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// open opens the graph, the audit log and the remediation stores, and
// finishes what a crash interrupted.
func (s *serving) open(ctx context.Context, e *env) error {
	var err error
	if s.inv, err = s.g.open(ctx, e); err != nil {
		return err
	}
	s.closers = append(s.closers, func() { s.inv.Close() })
	if s.alog, err = openAudit(s.cfg); err != nil {
		return err
	}
	s.closers = append(s.closers, func() { s.alog.Close() })
	if key, _ := s.cfg.AuditKey(os.ReadFile); key == nil {
		s.log.Warn("audit records are hash-chained but not MACed: set STEWARD_AUDIT_KEY or audit_key_file", "audit_log", s.cfg.AuditLog)
	}
	if s.rem, err = buildRemediation(ctx, s.cfg, s.inv, s.alog, s.g.overrides, s.log); err != nil {
		return err
	}
	s.closers = append(s.closers, func() { s.rem.Close() })
	if s.rem.changes, err = changeTracker(s.cfg); err != nil {
		return &usageError{err.Error()}
	}
	s.rem.history = serveChanges(s.g, s.rem.changes)
	if s.rem.executor != nil {
		// Finish what a crash interrupted: journalled actions never run
		// twice; an action with an unknown outcome is reported.
		if resumed, err := s.rem.approvals.Resume(ctx, s.rem.executor, approval.Actor{ID: "steward", Where: audit.WhereSystem}); err != nil {
			s.log.Warn("resuming interrupted executions failed", "err", err)
		} else if len(resumed) > 0 {
			s.log.Info("resumed interrupted executions", "proposals", len(resumed))
		}
	}
	return nil
}

// servePart is one of serve's concurrent parts: it runs until ctx ends
// and returns an error only when it failed.
type servePart struct {
	name string
	run  func(ctx context.Context) error
}

// build wires the agent, the conversation service, Slack and the HTTP
// server, and returns the parts to run: the HTTP server, Slack's socket
// when in socket mode, the sync loop (or the remediation tick) and the
// refresh from a shared store.
func (s *serving) build(ctx context.Context) ([]servePart, error) {
	cfg, log := s.cfg, s.log
	agentCfg := agent.Config{Provider: cfg.Agent.Provider, BaseURL: cfg.Agent.BaseURL, Model: cfg.Agent.Model,
		APIKeyEnv: cfg.Agent.APIKeyEnv, MaxSteps: cfg.Agent.MaxSteps, MaxTokens: cfg.Agent.MaxTokens,
		Timeout: time.Duration(cfg.Agent.Timeout)}
	ag, err := agent.FromConfig(ctx, agentCfg, os.Getenv, agent.Options{Logger: log.With("component", "agent")})
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	now := time.Now
	if s.g.demo {
		// The demo is generated relative to its reference time.
		now = func() time.Time { return s.g.nowAt }
	}
	svc := chat.New(chat.Options{Agent: ag, Graph: s.inv, Now: now, Audit: s.alog, Proposer: s.rem.proposer, Changes: s.rem.history, Where: "http", Logger: log.With("component", "chat")})
	var keys []server.Key // each with its role and holder (config validated both)
	for _, k := range cfg.APIKeys {
		keys = append(keys, server.Key{Name: k.Name, SHA256: k.SHA256, Role: k.Role, Email: k.Email})
	}
	sl, err := buildSlack(ctx, cfg, ag, s.inv, s.alog, s.rem, now, log)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	s.closers = append(s.closers, sl.stop)
	mets := metrics.New()
	mets.AuditFailures(s.alog.Failures)
	if s.rem.approvals != nil {
		mets.Proposals(s.rem.approvals, log.With("component", "metrics"))
	}
	console, err := web.New(web.Options{Logger: log.With("component", "web")})
	if err != nil {
		return nil, err
	}
	srv := server.New(server.Config{Keys: keys, Audit: s.alog, Chatter: svc, Graph: s.inv, Now: now, Logger: log.With("component", "http"),
		Workflow: s.rem.workflow, Reviews: s.rem.reviews.handlers(), Slack: sl.routes, Registry: mets.Registry, Web: console,
		History: serveHistory{auditLog: cfg.AuditLog, changesDir: trackedDir(s.rem.changes)}})

	parts := []servePart{{"http", func(ctx context.Context) error {
		log.Info("listening", "addr", cfg.Listen, "demo", s.g.demo)
		return srv.Serve(ctx, cfg.Listen)
	}}}
	if sl.socket != nil {
		parts = append(parts, servePart{"slack", sl.socket})
	}
	if iv := time.Duration(cfg.Sync.Interval); iv > 0 && len(cfg.Connectors) > 0 && !s.g.demo {
		parts = append(parts, servePart{"sync", func(ctx context.Context) error {
			syncLoop(ctx, iv, cfg.Connectors, s.inv, s.alog, log, mets.ObserveSync, func() {
				s.rem.afterSync(ctx, log)
				recordChanges(ctx, s.rem.changes, s.inv.Index(), log)
			})
			return nil
		}})
	} else {
		parts = append(parts, servePart{"remediation tick", func(ctx context.Context) error {
			tickLoop(ctx, time.Minute, func() { s.rem.afterSync(ctx, log) })
			return nil
		}})
	}
	parts = append(parts, servePart{"graph refresh", func(ctx context.Context) error {
		tickLoop(ctx, refreshInterval, func() {
			if changed, err := s.inv.RefreshIfChanged(ctx); err != nil {
				log.Warn("graph refresh failed; serving the previous graph", "err", err)
			} else if changed {
				log.Info("graph reloaded: the store changed")
			}
		})
		return nil
	}})
	return parts, nil
}

// runParts runs serve's parts as one group: the first to stop, failed or
// not, stops the rest, and the first failure, named by its part, is the
// result (so a dead Slack socket ends serve with a non-zero exit, not a
// quiet one). A part ending because ctx ended is no failure.
func runParts(ctx context.Context, parts []servePart) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	grp, ctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		grp.Go(func() error {
			defer cancel()
			if err := p.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			return nil
		})
	}
	return grp.Wait()
}

// tickLoop calls fn every interval until ctx ends.
func tickLoop(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// refreshInterval is how often serve checks whether another replica
// changed the shared store.
const refreshInterval = 15 * time.Second

// syncLoop runs every connector now and then every interval, replacing
// sources through the inventory so the index follows.
func syncLoop(ctx context.Context, every time.Duration, cs []config.Connector, inv *inventory.Inventory, alog *audit.Log, log *slog.Logger, observe func(inventory.SyncResult), after func()) {
	pass := func() {
		// Fail closed: a connector whose audit record cannot be written
		// fails its sync and leaves its sources as they were.
		res := inventory.SyncAudited(ctx, cs, inv, connectors.Env{Logger: log.With("component", "connector"), ReadFile: os.ReadFile}, time.Now, alog, audit.WhereScheduler)
		for _, r := range res {
			observe(r)
			log.Info("sync", "connector", r.Connector, "nodes", r.Nodes, "edges", r.Edges, "duration", r.Duration, "error", r.Error)
		}
		after()
	}
	pass()
	tickLoop(ctx, every, pass)
}
