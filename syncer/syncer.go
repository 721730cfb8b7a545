// Package syncer runs every configured connector and replaces each
// connector's sources in the graph atomically, recording what happened
// (time, counts, errors). A connector that fails leaves its previous
// subgraph in place and does not stop the others.
package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// Replacer stores subgraphs, replacing each named source whole.
type Replacer interface {
	Replace(ctx context.Context, sgs ...*graph.Subgraph) error
}

// Result is the outcome of one connector run.
type Result struct {
	Connector string        `json:"connector"`
	Type      string        `json:"type"`
	Sources   []string      `json:"sources,omitempty"`
	Nodes     int           `json:"nodes"`
	Edges     int           `json:"edges"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration_ns"`
	Error     string        `json:"error,omitempty"`
}

// Record is the audit record of one connector run: when, what it
// loaded, and the error if it failed (the error text names the file and
// place, never a secret value).
func (r Result) Record(where string) audit.Record {
	rec := audit.Record{Time: r.Started, Actor: "steward", Action: "sync", Target: r.Connector, Where: where, Outcome: "loaded",
		Details: map[string]string{"type": r.Type, "sources": strings.Join(r.Sources, ","), "nodes": strconv.Itoa(r.Nodes),
			"edges": strconv.Itoa(r.Edges), "duration": r.Duration.String()}}
	if r.Error != "" {
		rec.Outcome = "failed"
		rec.Details["error"] = r.Error
	}
	return rec
}

// Run runs cs in order. env is passed to each connector; now stamps the
// results.
func Run(ctx context.Context, cs []config.Connector, dst Replacer, env connectors.Env, now func() time.Time) []Result {
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	out := make([]Result, 0, len(cs))
	for _, c := range cs {
		if ctx.Err() != nil {
			break
		}
		out = append(out, runOne(ctx, c, dst, env, now))
	}
	return out
}

func runOne(ctx context.Context, c config.Connector, dst Replacer, env connectors.Env, now func() time.Time) Result {
	res := Result{Connector: c.Name, Type: c.Type, Started: now()}
	log := env.Logger.With("component", "syncer", "connector", c.Name)
	err := func() error {
		r, err := connectors.New(c.Type, connectors.Options(c.Options), env)
		if err != nil {
			return err
		}
		sgs, err := r.Read(ctx)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		for _, sg := range sgs {
			res.Sources = append(res.Sources, sg.Source)
			res.Nodes += len(sg.Nodes)
			res.Edges += len(sg.Edges)
		}
		if err := dst.Replace(ctx, sgs...); err != nil {
			return fmt.Errorf("replace: %w", err)
		}
		return nil
	}()
	res.Duration = now().Sub(res.Started)
	if err != nil {
		res.Error = err.Error()
		log.Warn("sync failed; previous graph kept", "err", err)
	} else {
		log.Info("synced", "sources", len(res.Sources), "nodes", res.Nodes, "edges", res.Edges)
	}
	return res
}
