package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

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
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var g graphFlags
	g.register(fs, true)
	listen := fs.String("listen", "", "address to listen on (default from config, else 127.0.0.1:8080)")
	cfgPath := fs.String("config", e.configPath, "configuration file (steward.yaml)")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	var cfg *config.Config
	var err error
	if *cfgPath != "" {
		cfg, err = config.Load(*cfgPath, os.Getenv)
	} else {
		cfg, err = config.FromEnv(os.Getenv)
	}
	if err != nil {
		return usageErr(e, "serve", err.Error())
	}
	// Flags win over the environment and the file.
	if *listen != "" {
		cfg.Listen = *listen
	}
	if g.path == "" && !g.demo {
		g.path = cfg.Graph
	}
	if err := g.validate(); err != nil {
		return usageErr(e, "serve", err.Error())
	}
	if len(cfg.APIKeys) == 0 {
		return usageErr(e, "serve", "no API keys: set api_keys in the config file or STEWARD_API_KEYS (every endpoint but /healthz needs one)")
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.log = log

	inv, err := g.open(ctx, e)
	if err != nil {
		return fail(e, "serve", err)
	}
	defer inv.Close()
	alog, err := openAudit(cfg)
	if err != nil {
		return fail(e, "serve", err)
	}
	defer alog.Close()
	if key, _ := cfg.AuditKey(os.ReadFile); key == nil {
		log.Warn("audit records are hash-chained but not MACed: set STEWARD_AUDIT_KEY or audit_key_file", "audit_log", cfg.AuditLog)
	}

	rem, err := buildRemediation(ctx, cfg, inv, alog, g.overrides, log)
	if err != nil {
		return fail(e, "serve", err)
	}
	if rem.changes, err = changeTracker(cfg); err != nil {
		return usageErr(e, "serve", err.Error())
	}
	rem.history = serveChanges(&g, rem.changes)
	defer rem.Close()
	if rem.executor != nil {
		// Finish what a crash interrupted: journalled actions never run
		// twice; an action with an unknown outcome is reported.
		if resumed, err := rem.approvals.Resume(ctx, rem.executor, approval.Actor{ID: "steward", Where: audit.WhereSystem}); err != nil {
			log.Warn("resuming interrupted executions failed", "err", err)
		} else if len(resumed) > 0 {
			log.Info("resumed interrupted executions", "proposals", len(resumed))
		}
	}

	agentCfg := agent.Config{Provider: cfg.Agent.Provider, BaseURL: cfg.Agent.BaseURL, Model: cfg.Agent.Model,
		APIKeyEnv: cfg.Agent.APIKeyEnv, MaxSteps: cfg.Agent.MaxSteps, MaxTokens: cfg.Agent.MaxTokens,
		Timeout: time.Duration(cfg.Agent.Timeout)}
	ag, err := agent.FromConfig(ctx, agentCfg, os.Getenv, agent.Options{Logger: log.With("component", "agent")})
	if err != nil {
		return usageErr(e, "serve", err.Error())
	}
	now := time.Now
	if g.demo {
		// The demo is generated relative to its reference time.
		now = func() time.Time { return g.nowAt }
	}
	svc := chat.New(chat.Options{Agent: ag, Graph: inv, Now: now, Audit: alog, Proposer: rem.proposer, Changes: rem.history, Where: "http", Logger: log.With("component", "chat")})
	var keys []server.Key // each with its role and holder (config validated both)
	for _, k := range cfg.APIKeys {
		keys = append(keys, server.Key{Name: k.Name, SHA256: k.SHA256, Role: k.Role, Email: k.Email})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	run := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel() // serve's parts run as one group
			fn()
		}()
	}
	slackRoutes, stopSlack, err := buildSlack(ctx, cfg, ag, inv, alog, rem, now, log, run)
	if err != nil {
		return usageErr(e, "serve", err.Error())
	}
	defer stopSlack()
	mets := metrics.New()
	mets.AuditFailures(alog.Failures)
	if rem.approvals != nil {
		mets.Proposals(rem.approvals, log.With("component", "metrics"))
	}
	console, err := web.New(web.Options{Logger: log.With("component", "web")})
	if err != nil {
		return fail(e, "serve", err)
	}
	srv := server.New(server.Config{Keys: keys, Audit: alog, Chatter: svc, Graph: inv, Now: now, Logger: log.With("component", "http"),
		Workflow: rem.workflow, Reviews: rem.reviews.handlers(), Slack: slackRoutes, Registry: mets.Registry, Web: console,
		History: serveHistory{auditLog: cfg.AuditLog, changesDir: trackedDir(rem.changes)}})

	run(func() {
		log.Info("listening", "addr", cfg.Listen, "demo", g.demo)
		errc <- srv.Serve(ctx, cfg.Listen)
	})
	if iv := time.Duration(cfg.Sync.Interval); iv > 0 && len(cfg.Connectors) > 0 && !g.demo {
		run(func() {
			syncLoop(ctx, iv, cfg.Connectors, inv, alog, log, mets.ObserveSync, func() {
				rem.afterSync(ctx, log)
				recordChanges(ctx, rem.changes, inv.Index(), log)
			})
		})
	} else {
		run(func() { tickLoop(ctx, time.Minute, func() { rem.afterSync(ctx, log) }) })
	}
	run(func() {
		tickLoop(ctx, refreshInterval, func() {
			if changed, err := inv.RefreshIfChanged(ctx); err != nil {
				log.Warn("graph refresh failed; serving the previous graph", "err", err)
			} else if changed {
				log.Info("graph reloaded: the store changed")
			}
		})
	})
	// serve's parts run as one group: the first to stop stops the rest.
	err = <-errc
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(e, "serve", fmt.Errorf("http: %w", err))
	}
	return ExitOK
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
