package inventory

// This file runs the configured connectors (a sync): each connector's
// sources are replaced in the graph atomically, and what happened (time,
// counts, errors) is recorded. A connector that fails leaves its previous
// subgraph in place and does not stop the others.

import (
	"context"
	"errors"
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

// SyncResult is the outcome of one connector run.
type SyncResult struct {
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
func (r SyncResult) Record(where string) audit.Record {
	rec := audit.Record{Time: r.Started, Actor: "steward", Action: "sync", Target: r.Connector, Where: where, Outcome: "loaded",
		Details: map[string]string{"type": r.Type, "sources": strings.Join(r.Sources, ","), "nodes": strconv.Itoa(r.Nodes),
			"edges": strconv.Itoa(r.Edges), "duration": r.Duration.String()}}
	if r.Error != "" {
		rec.Outcome = "failed"
		rec.Details["error"] = r.Error
	}
	return rec
}

// Auditor appends one audit record; *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, rec audit.Record) (audit.Record, error)
}

var errReplace = errors.New("replace")

// Sync runs cs in order. env is passed to each connector; now stamps the
// results.
func Sync(ctx context.Context, cs []config.Connector, dst Replacer, env connectors.Env, now func() time.Time) []SyncResult {
	return SyncAudited(ctx, cs, dst, env, now, nil, "")
}

// SyncAudited is Sync that fails closed on its audit log: each connector's
// record (where names the caller) is written before its sources are
// replaced, and a connector whose record cannot be written fails without
// touching the graph. A load nobody can trace afterwards must not happen.
// A failed replace is recorded as a second, "failed" record.
func SyncAudited(ctx context.Context, cs []config.Connector, dst Replacer, env connectors.Env, now func() time.Time, alog Auditor, where string) []SyncResult {
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	out := make([]SyncResult, 0, len(cs))
	for _, c := range cs {
		if ctx.Err() != nil {
			break
		}
		out = append(out, syncOne(ctx, c, dst, env, now, alog, where))
	}
	return out
}

func syncOne(ctx context.Context, c config.Connector, dst Replacer, env connectors.Env, now func() time.Time, alog Auditor, where string) SyncResult {
	res := SyncResult{Connector: c.Name, Type: c.Type, Started: now()}
	log := env.Logger.With("component", "syncer", "connector", c.Name)
	audited := false // the record of this run is written (or failed to be)
	record := func() error {
		audited = true
		if alog == nil {
			return nil
		}
		if _, err := alog.Append(ctx, audit.MaskRecord(res.Record(where))); err != nil {
			return fmt.Errorf("audit: %w (sync refused, previous graph kept)", err)
		}
		return nil
	}
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
		res.Duration = now().Sub(res.Started)
		if err := record(); err != nil {
			return err
		}
		if err := dst.Replace(ctx, sgs...); err != nil {
			return fmt.Errorf("%w: %w", errReplace, err)
		}
		return nil
	}()
	res.Duration = now().Sub(res.Started)
	if err != nil && (!audited || errors.Is(err, errReplace)) {
		res.Error = err.Error() // the failed run is recorded with its error
		if aerr := record(); aerr != nil {
			err = fmt.Errorf("%w; %w", err, aerr)
		}
	}
	if err != nil {
		res.Error = err.Error()
		log.Warn("sync failed; previous graph kept", "err", err)
	} else {
		log.Info("synced", "sources", len(res.Sources), "nodes", res.Nodes, "edges", res.Edges)
	}
	return res
}
